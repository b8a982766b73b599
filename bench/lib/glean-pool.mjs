/** piscina as glean uses it, for the contenders and parts that stand for a glean thread without glean. */

/**
 * The options glean gives each of its pools (packages/core/src/thread.ts), but `filename`: one
 * thread that lives until the pool is destroyed, one task at a time, no Atomics wait between tasks,
 * no task timings recorded.
 */
export const GLEAN_POOL_OPTIONS = Object.freeze({
  minThreads: 1,
  maxThreads: 1,
  concurrentTasksPerWorker: 1,
  atomics: 'disabled',
  idleTimeout: Number.POSITIVE_INFINITY,
  recordTiming: false,
});
