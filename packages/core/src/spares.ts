import type { PluginSpec } from './diff.js';
import { START_TIMEOUT_MS, Slot, stopSlots } from './slot.js';
import type { ThreadOptions } from './thread.js';

/**
 * Threads started ahead of time for the next version with these thread options: a reload then
 * costs an import, not a worker start (about 40 ms, measured in bench/). Taken by at most
 * one version; destroyed if never taken.
 */
export class Spare {
  readonly key: string;
  readonly slots: readonly Slot[];
  readonly ready: Promise<boolean>;
  #taken = false;

  /** `root`: the plugin root's real path as a `file:` URL (see Slot). */
  constructor(key: string, options: ThreadOptions, root: string) {
    this.key = key;
    this.slots = Array.from({ length: options.threads }, () => new Slot(options, root));
    this.ready = Promise.all(this.slots.map((slot) => slot.warm(START_TIMEOUT_MS))).then(
      () => true,
      async () => {
        await this.destroy();
        return false;
      },
    );
  }

  /** Hands the threads over, once. `undefined` if already taken or not (yet) ready. */
  take(): readonly Slot[] | undefined {
    if (this.#taken) return undefined;
    this.#taken = true;
    return this.slots;
  }

  /** Terminates the threads if nobody took them. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#taken) return;
    this.#taken = true;
    await stopSlots(this.slots, 'spare no longer needed');
  }
}

/** The spare a version with these options would use: every thread is alike until it loads, whatever its plugin's language. */
export function spareKey(options: ThreadOptions): string {
  return JSON.stringify([options.threads, options.resourceLimits ?? null, options.env]);
}

/**
 * The spares of one Glean: at most one per spare key, for the shapes of the versions that run, so
 * the next version of any of them starts warm.
 */
export class Spares {
  readonly #spares = new Map<string, Spare>();
  readonly #root: string;
  #refilling: Promise<void> = Promise.resolve();

  /** `root`: the plugin root's real path as a `file:` URL, which every spare's threads take their modules from. */
  constructor(root: string) {
    this.#root = root;
  }

  /** The refills asked for so far have run (each resolves once its spares are warm, or failed). */
  get refilled(): Promise<void> {
    return this.#refilling;
  }

  /**
   * After `delayMs`, {@link refill} for the specs `wanted()` returns then (none when it returns an empty
   * list: every spare stops). Refills run one after another; a failed one is passed to `onError` and
   * the next runs as usual. Resolves once this one's spares are warm.
   */
  refillLater(delayMs: number, wanted: () => Iterable<PluginSpec>, onError: (error: unknown) => void): Promise<void> {
    this.#refilling = this.#refilling
      .then(() => new Promise((resolve) => setTimeout(resolve, delayMs)))
      .then(() => this.refill(wanted()))
      .catch(onError);
    return this.#refilling;
  }

  /** The spare threads for a version of `spec`, if one is ready or starting (waiting beats a cold start). */
  async take(spec: PluginSpec): Promise<readonly Slot[] | undefined> {
    const key = spareKey(spec.options);
    const spare = this.#spares.get(key);
    if (spare === undefined) return undefined;
    this.#spares.delete(key);
    return (await spare.ready) ? spare.take() : undefined;
  }

  /** One spare per shape of `running`, and none other (none at all for an empty list); resolves once they are warm. */
  async refill(running: Iterable<PluginSpec>): Promise<void> {
    const wanted = new Map<string, PluginSpec>();
    for (const spec of running) wanted.set(spareKey(spec.options), spec);
    const stale = [...this.#spares.values()].filter((spare) => !wanted.has(spare.key));
    for (const spare of stale) this.#spares.delete(spare.key);
    for (const [key, spec] of wanted) {
      if (!this.#spares.has(key)) this.#spares.set(key, new Spare(key, spec.options, this.#root));
    }
    await Promise.all([
      ...stale.map((spare) => spare.destroy()),
      ...[...this.#spares.values()].map((spare) => spare.ready),
    ]);
  }
}
