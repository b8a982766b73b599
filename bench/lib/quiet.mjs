/** Waiting for this process to be idle, so that one measurement does not pay for the last one's leftovers. */
import { performance } from 'node:perf_hooks';
import { cpuSince } from './cpu.mjs';

/**
 * Resolves once this process (all its threads) used less than `share` of one CPU over a window of
 * `windowMs`, or after `maxMs`: work a reload leaves behind (a retiring version, a thread started
 * ahead of time for the next one) is then done before the next reload starts. Other processes do
 * not count, so a busy machine does not hold it up. Resolves `true` if it got quiet in time.
 */
export async function quiet({ windowMs = 25, share = 0.1, maxMs = 5000 } = {}) {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (cpuSince(cpu) / 1000 < share * (performance.now() - start)) return true;
    if (performance.now() > deadline) return false;
  }
}
