import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { PrepareOptions } from '@glean/worker/protocol';
import type { PluginOptions } from './config.js';
import type { PluginSpec } from './diff.js';
import { prepareFor } from './plugin-files.js';
import { EXIT_TIMEOUT_MS, Slot } from './slot.js';

/**
 * The worker entry runs from built output: Node 20 cannot run `.ts` by itself. It is a CommonJS file
 * that import()s the ES entry (see packages/worker/src/start.cts for why).
 */
const ENTRY = fileURLToPath(import.meta.resolve('@glean/worker/start'));

/** How long a worker may take to start before it counts as failed. */
const WARM_TIMEOUT_MS = 10_000;

/** The options that shape a version's threads; versions whose options agree can use the same spare. */
export type ThreadOptions = Pick<PluginOptions, 'threads' | 'resourceLimits' | 'env'>;

/** A piscina pool whose threads each run one long glean serve task. */
export function createPool({ threads, resourceLimits, env }: ThreadOptions): Piscina {
  const pool = new Piscina({
    filename: ENTRY,
    // Each slot's serve task starts its thread. With a minimum, piscina would start threads by itself
    // whenever one ends, even in a destroyed pool when a thread stuck in a system call exits late.
    minThreads: 0,
    maxThreads: threads,
    // One serve task per thread, running for the thread's whole life.
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
  return pool;
}

/**
 * Stops every thread of `pool` at once and waits for them to exit, at most {@link EXIT_TIMEOUT_MS}.
 * Resolves with the thread ids of slots still running then (blocked in a system call, which no
 * termination interrupts): nothing waits for them.
 * Destroying the pool first means no task of it is handed to a thread about to end.
 */
export async function destroyPool(pool: Piscina, slots: readonly Slot[], reason: string): Promise<number[]> {
  for (const slot of slots) slot.expectEnd(reason);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([pool.destroy(), ...slots.map((slot) => slot.terminate(reason))]),
    new Promise((resolve) => (timer = setTimeout(resolve, EXIT_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  return slots.filter((slot) => !slot.hasExited).map((slot) => slot.threadId);
}

/**
 * Threads started ahead of time for the next version with these thread options: a reload then
 * costs an import, not a worker start (about 40 ms, measured in bench/). Taken by at most
 * one version; destroyed if never taken.
 */
export class Spare {
  readonly key: string;
  readonly pool: Piscina;
  readonly slots: readonly Slot[];
  readonly ready: Promise<boolean>;
  #taken = false;

  constructor(key: string, options: ThreadOptions, prepare: PrepareOptions) {
    this.key = key;
    this.pool = createPool(options);
    this.slots = Array.from({ length: options.threads }, () => new Slot(this.pool));
    this.ready = Promise.all(this.slots.map((slot) => slot.warm(prepare, WARM_TIMEOUT_MS))).then(
      () => true,
      async () => {
        await this.destroy();
        return false;
      },
    );
  }

  /** Hands the threads over, once. `undefined` if already taken or not (yet) ready. */
  take(): { pool: Piscina; slots: readonly Slot[] } | undefined {
    if (this.#taken) return undefined;
    this.#taken = true;
    return { pool: this.pool, slots: this.slots };
  }

  /** Terminates the threads if nobody took them. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#taken) return;
    this.#taken = true;
    await destroyPool(this.pool, this.slots, 'spare no longer needed');
  }
}

/** The spare a version with these options and module hooks would use. */
export function spareKey(options: ThreadOptions, prepare: PrepareOptions): string {
  return JSON.stringify([options.threads, options.resourceLimits ?? null, options.env, prepare.typescript, prepare.pinned]);
}

/**
 * The spares of one Glean: at most one per spare key, for the shapes of the versions that run, so
 * the next version of any of them starts warm.
 */
export class Spares {
  readonly #spares = new Map<string, Spare>();

  /** The spare threads for a version of `spec`, if one is ready or starting (waiting beats a cold start). */
  async take(spec: PluginSpec): Promise<{ pool: Piscina; slots: readonly Slot[] } | undefined> {
    const key = spareKey(spec.options, prepareFor(spec));
    const spare = this.#spares.get(key);
    if (spare === undefined) return undefined;
    this.#spares.delete(key);
    return (await spare.ready) ? spare.take() : undefined;
  }

  /** One spare per shape of `running`, and none other (none at all for an empty list); resolves once they are warm. */
  async refill(running: Iterable<PluginSpec>): Promise<void> {
    const wanted = new Map<string, PluginSpec>();
    for (const spec of running) wanted.set(spareKey(spec.options, prepareFor(spec)), spec);
    const stale = [...this.#spares.values()].filter((spare) => !wanted.has(spare.key));
    for (const spare of stale) this.#spares.delete(spare.key);
    for (const [key, spec] of wanted) {
      if (!this.#spares.has(key)) this.#spares.set(key, new Spare(key, spec.options, prepareFor(spec)));
    }
    await Promise.all([...stale.map((spare) => spare.destroy()), ...[...this.#spares.values()].map((spare) => spare.ready)]);
  }
}
