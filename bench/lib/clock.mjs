/** The one clock every thread of this process shares, so a worker's timestamps and the host's can be set side by side. */
import { performance } from 'node:perf_hooks';

/** Wall-clock ms in the clock every thread of this process shares (`performance.timeOrigin` is per thread, this is not). */
export const now = () => performance.timeOrigin + performance.now();
