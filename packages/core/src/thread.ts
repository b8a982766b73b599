import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { PluginOptions } from './config.js';

/**
 * The worker entry runs from built output: Node 20 cannot run `.ts` by itself. It is a CommonJS file
 * that import()s the ES entry (see packages/worker/src/start.cts for why).
 */
const ENTRY = fileURLToPath(import.meta.resolve('@glean/worker/start'));

/** The options that shape a version's threads; versions whose options agree can use the same spare. */
export type ThreadOptions = Pick<PluginOptions, 'threads' | 'resourceLimits' | 'env'>;

/**
 * One worker thread, as a piscina pool of exactly one, started now: a thread that cannot start
 * (`ERR_WORKER_INIT_FAILED`: out of threads or memory for its stack) throws here, where the caller
 * catches it, before any task exists. The thread then runs one long glean serve task.
 *
 * One pool per thread, because of where piscina starts threads: a pool starts one inside `run()`
 * when none is free (a start that fails there leaves a queued task piscina later rejects with no
 * one to catch it, an unhandled rejection), and a pool with `minThreads` starts one whenever a
 * thread ends, inside its exit handler (a start that fails there throws into the host, and a thread
 * stuck in a system call that exits after its pool was destroyed gets a replacement nobody stops).
 * So the pool starts its one thread in its constructor, and then keeps no minimum: it never starts
 * another. glean replaces a thread that ended with a new pool.
 */
export function createThread({ resourceLimits, env }: Omit<ThreadOptions, 'threads'>): Piscina {
  const pool = new Piscina({
    filename: ENTRY,
    minThreads: 1,
    maxThreads: 1,
    concurrentTasksPerWorker: 1,
    // 'sync' would freeze a worker's event loop between tasks; glean's calls do not go through tasks.
    atomics: 'disabled',
    idleTimeout: Number.POSITIVE_INFINITY,
    // glean reads no task timings. Each pool's two run/wait histograms are large native blocks; freeing
    // them at every retirement made glibc keep tens of MiB that later threads had freed (bench/memory.mjs).
    recordTiming: false,
    // No execArgv: workers inherit the host's flags, and Node drops those a thread cannot take.
    ...(resourceLimits === undefined ? {} : { resourceLimits }),
    // Node gives every worker its own copy of the variables: 'inherit' copies the host's at start.
    ...(env === 'inherit' ? {} : { env: env === 'none' ? {} : { ...env } }),
  });
  // A pool error without a listener would crash the host; workers' deaths reach glean through their tasks.
  pool.on('error', () => {});
  try {
    // piscina reads the minimum live each time a thread ends; with none, it starts no thread by itself.
    (pool.options as { minThreads: number }).minThreads = 0;
    if (pool.options.minThreads !== 0)
      throw new Error('glean: piscina no longer takes a minimum of 0 threads after start; glean needs it');
  } catch (error) {
    // The thread has started: it must not outlive the refusal.
    void pool.destroy();
    throw error;
  }
  return pool;
}

/** The host's variables now, as a worker that inherits them would start with. */
export function threadEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  return env;
}
