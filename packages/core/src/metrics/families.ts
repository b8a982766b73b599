/**
 * The metric families of one registry and prefix, shared by every Glean registered in them (prom-client
 * refuses a second metric of the same name in one registry): counters and the in-flight gauge are
 * counted as calls and events arrive; the in-flight, thread, info and canary gauges read one
 * `status()` of every Glean registered here per collection of the registry.
 */
import type { Counter, Histogram, Registry } from 'prom-client';
import { engineOf } from '../engines.js';
import type { Glean } from '../glean.js';
import type { PromClient } from './prom-client.js';

/** The metric names without a prefix, a public contract (README, "Metrics"). */
export const METRIC_NAMES = {
  CALLS: 'glean_calls_total',
  CALL_DURATION: 'glean_call_duration_seconds',
  CALLS_IN_FLIGHT: 'glean_calls_in_flight',
  RELOADS: 'glean_reloads_total',
  WORKER_RESTARTS: 'glean_worker_restarts_total',
  WORKER_THREADS: 'glean_worker_threads',
  PLUGIN_INFO: 'glean_plugin_info',
  CANARY_WEIGHT: 'glean_canary_weight',
} as const;

/** Calls settled under one label set since the last collection. */
interface Settled {
  readonly labels: { readonly id: string; readonly version: string; readonly outcome: string };
  count: number;
}

/**
 * Every family of one registry and prefix. A call's count and the calls in flight are kept in plain
 * maps and handed to prom-client as the registry is collected: each prom-client update hashes its
 * labels, which cost as much as the call itself at 64 in flight (docs/benchmarks.md, "Traces and
 * metrics"); the duration is observed per call, as a histogram must be.
 */
export class MetricFamilies {
  readonly duration: Histogram<'id' | 'version'>;
  readonly reloads: Counter<'id' | 'outcome'>;
  readonly restarts: Counter<'id' | 'version'>;
  /** The Glean registered here, each with how many registrations hold it. */
  readonly #gleans = new Map<Glean, number>();
  readonly #registry: Registry;
  readonly #names: string[];
  /** By id, version and outcome joined with NUL (a character no label value of these has in practice, and harmless if one does: the labels are kept whole). */
  readonly #settled = new Map<string, Settled>();
  /** By id, only while a call to it is in flight: an id removed from the config leaves no entry behind. */
  readonly #inFlight = new Map<string, number>();
  /** The statuses of the collection under way, shared by its gauges; `undefined` between collections. */
  #snapshot: ReturnType<Glean['status']>[] | undefined;

  constructor(client: PromClient, registry: Registry, prefix: string, buckets: readonly number[]) {
    this.#registry = registry;
    const registers = [registry];
    const name = (base: string): string => `${prefix}${base}`;
    this.#names = Object.values(METRIC_NAMES).map(name);
    const families = this;
    new client.Counter({
      name: name(METRIC_NAMES.CALLS),
      help: 'Handle calls that settled, by id, version and outcome (ok, a GLEAN_ code, or error for the plugin’s own error).',
      labelNames: ['id', 'version', 'outcome'] as const,
      registers,
      collect() {
        for (const settled of families.#settled.values()) {
          if (settled.count === 0) continue;
          this.inc(settled.labels, settled.count);
          settled.count = 0;
        }
      },
    });
    this.duration = new client.Histogram({
      name: name(METRIC_NAMES.CALL_DURATION),
      help: 'Time from a handle call to its settling, in seconds, by id and version.',
      labelNames: ['id', 'version'] as const,
      buckets: [...buckets],
      registers,
    });
    new client.Gauge({
      name: name(METRIC_NAMES.CALLS_IN_FLIGHT),
      help: 'Handle calls made and not settled, by id.',
      labelNames: ['id'] as const,
      registers,
      collect() {
        // Every id a Glean serves shows 0 when idle; an id it no longer serves shows only while its calls settle.
        this.reset();
        for (const status of families.#statuses()) for (const id of Object.keys(status)) this.set({ id }, 0);
        for (const [id, count] of families.#inFlight) this.set({ id }, count);
      },
    });
    this.reloads = new client.Counter({
      name: name(METRIC_NAMES.RELOADS),
      help: 'Reloads, by id and outcome: ok when the id moved to a new version, failed when a reload failed (id "" when the failure names no id).',
      labelNames: ['id', 'outcome'] as const,
      registers,
    });
    this.restarts = new client.Counter({
      name: name(METRIC_NAMES.WORKER_RESTARTS),
      help: 'Worker threads restarted after a crash, by id and version.',
      labelNames: ['id', 'version'] as const,
      registers,
    });
    new client.Gauge({
      name: name(METRIC_NAMES.WORKER_THREADS),
      help: 'Live worker threads, by id and version (the stable and a canary).',
      labelNames: ['id', 'version'] as const,
      registers,
      collect() {
        this.reset();
        for (const status of families.#statuses())
          for (const plugin of Object.values(status)) {
            this.inc({ id: plugin.id, version: plugin.version }, plugin.threads.length);
            const { canary } = plugin;
            if (canary !== undefined && canary.state !== 'rolled-back')
              this.inc({ id: plugin.id, version: canary.version }, canary.threads.length);
          }
      },
    });
    new client.Gauge({
      name: name(METRIC_NAMES.PLUGIN_INFO),
      help: 'The versions running, by id, version, plugin file and graph hash; always 1.',
      labelNames: ['id', 'version', 'file', 'hash'] as const,
      registers,
      collect() {
        this.reset();
        for (const status of families.#statuses())
          for (const plugin of Object.values(status)) {
            this.set({ id: plugin.id, version: plugin.version, file: plugin.file, hash: plugin.graphHash }, 1);
            const { canary } = plugin;
            if (canary !== undefined && canary.state !== 'rolled-back')
              this.set({ id: plugin.id, version: canary.version, file: canary.file, hash: canary.graphHash }, 1);
          }
      },
    });
    new client.Gauge({
      name: name(METRIC_NAMES.CANARY_WEIGHT),
      help: 'The percentage of an id’s calls its canary takes, by id and canary version; 0 once rolled back.',
      labelNames: ['id', 'version'] as const,
      registers,
      collect() {
        this.reset();
        for (const status of families.#statuses())
          for (const plugin of Object.values(status))
            if (plugin.canary !== undefined)
              this.set({ id: plugin.id, version: plugin.canary.version }, plugin.canary.weight);
      },
    });
  }

  /** A call to `id` was made. */
  started(id: string): void {
    this.#inFlight.set(id, (this.#inFlight.get(id) ?? 0) + 1);
  }

  /** A call to `id` that {@link started} settled with `outcome` after `seconds`; `version` `''` when no version took it. */
  settled(id: string, version: string, outcome: string, seconds: number): void {
    const inFlight = (this.#inFlight.get(id) ?? 1) - 1;
    if (inFlight > 0) this.#inFlight.set(id, inFlight);
    else this.#inFlight.delete(id);
    const key = `${id}\0${version}\0${outcome}`;
    const settled = this.#settled.get(key);
    if (settled === undefined) this.#settled.set(key, { labels: { id, version, outcome }, count: 1 });
    else settled.count++;
    this.duration.observe({ id, version }, seconds);
  }

  /** Counts `glean` in once more. */
  add(glean: Glean): void {
    this.#gleans.set(glean, (this.#gleans.get(glean) ?? 0) + 1);
  }

  /** Counts `glean` out once; returns whether any Glean is left (if not, the families left the registry). */
  remove(glean: Glean): boolean {
    const count = (this.#gleans.get(glean) ?? 0) - 1;
    if (count > 0) this.#gleans.set(glean, count);
    else this.#gleans.delete(glean);
    if (this.#gleans.size > 0) return true;
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
    return false;
  }

  /**
   * `status()` of every Glean registered here that is not closed, taken once per collection: prom-client
   * calls every metric's collect() in one synchronous pass (Registry.metrics(), getMetricsAsJSON()), so
   * the first gauge takes the statuses and the others of that pass reuse them, and the next collection
   * takes new ones. A collect() called alone takes its own.
   */
  #statuses(): readonly ReturnType<Glean['status']>[] {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const snapshot: ReturnType<Glean['status']>[] = [];
    for (const glean of this.#gleans.keys()) if (engineOf(glean)?.closed !== true) snapshot.push(glean.status());
    this.#snapshot = snapshot;
    queueMicrotask(() => {
      this.#snapshot = undefined;
    });
    return snapshot;
  }
}
