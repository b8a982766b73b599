/**
 * Per-id call numbers, counted in one place: every call a handle makes passes through
 * {@link countCall}, whatever later settles it (a reply, a timeout, a crash, a full queue, an
 * argument that cannot be sent, an abort, a handle that cannot call: released, closed, its id
 * no longer configured, its export of another kind).
 */

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

/** Counts one call and, when it rejects, its error; returns the call's own promise. */
export function countCall(stats: CallStats, call: Promise<unknown>): Promise<unknown> {
  stats.calls++;
  call.then(undefined, (error: unknown) => {
    stats.errors++;
    stats.lastError = error as Error;
  });
  return call;
}
