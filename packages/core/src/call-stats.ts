/**
 * Per-id call numbers, counted in one place: every call a handle makes passes through
 * {@link countCall}, whatever later settles it (a reply, a timeout, a crash, a full queue, an
 * argument that cannot be sent, an abort, a handle that cannot call: released, closed, its id
 * no longer configured, its export of another kind).
 */

import { performance } from 'node:perf_hooks';

/** Told of each call made through a binding once it settles: its error (if it rejected) and how long it took. */
export interface CallTracker {
  settled(failed: boolean, error: unknown, ms: number): void;
}

/**
 * Told of every call a Glean's handles make (the metrics): when it is made, and once it settles, the
 * version it went to (`''` when none could take it), whether it failed, its error and its duration.
 */
export interface CallObserver {
  started(id: string): void;
  settled(id: string, version: string, failed: boolean, error: unknown, ms: number): void;
}

/** Per-id call numbers, shared by every handle of the id across its versions. */
export interface CallStats {
  readonly id: string;
  calls: number;
  errors: number;
  lastError: Error | undefined;
}

/** Fresh numbers for `id`. */
export function newCallStats(id: string): CallStats {
  return { id, calls: 0, errors: 0, lastError: undefined };
}

/**
 * Counts one call and, when it rejects, its error; `lastError` too unless `refusal` (a handle that
 * could not call: released, closed, its id not configured, which says nothing of the plugin).
 * `tracker` (an id with a canary) is told of the outcome and the call's duration, in the same
 * reaction: one per call, whatever is counted. Returns the call's own promise. Counting handles its
 * rejection, so a call nobody awaits does not become an unhandled rejection: what a plugin throws
 * never takes the host process down, even from a call made and forgotten.
 */
export function countCall(
  stats: CallStats,
  call: Promise<unknown>,
  refusal = false,
  tracker?: CallTracker,
): Promise<unknown> {
  stats.calls++;
  const failed = (error: unknown): void => {
    stats.errors++;
    if (!refusal) stats.lastError = error as Error;
  };
  if (tracker === undefined) {
    call.then(undefined, failed);
    return call;
  }
  const start = performance.now();
  call.then(
    () => tracker.settled(false, undefined, performance.now() - start),
    (error: unknown) => {
      failed(error);
      tracker.settled(true, error, performance.now() - start);
    },
  );
  return call;
}
