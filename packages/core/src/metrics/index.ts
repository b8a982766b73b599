/**
 * `@glean/core/metrics` — Prometheus metrics of a Glean in the application's own prom-client
 * registry: calls by outcome and their duration, calls in flight, reloads, worker restarts and
 * threads, the versions running and a canary's weight. Counted on the main thread, where glean
 * counts each call (call-stats.ts); no worker keeps a registry. prom-client is an
 * optional peer dependency of @glean/core, loaded only here.
 *
 * @module @glean/core/metrics
 */
import type { Registry } from 'prom-client';
import type { GleanEngine } from '../engine.js';
import { engineOf, observeCalls, onReloadFailed } from '../engines.js';
import type { CrashEvent, ReloadEvent } from '../events.js';
import type { Glean } from '../glean.js';
import { MetricFamilies } from './families.js';
import { CallOutcome, rejectedOutcome } from './outcome.js';
import { promClient } from './prom-client.js';

export { CallOutcome } from './outcome.js';
export { METRIC_NAMES } from './families.js';

/** The buckets of `glean_call_duration_seconds`, in seconds: 100 µs (a call's floor is tens of µs) to 10 s. */
export const DEFAULT_CALL_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Options of {@link registerMetrics}. */
export interface MetricsOptions {
  /** The application's prom-client registry (`new Registry()`, or prom-client's `register`); glean never makes its own. */
  registry: Registry;
  /** Put before every metric name (`myapp_` gives `myapp_glean_calls_total`). Default `''`. */
  prefix?: string;
  /** The buckets of `glean_call_duration_seconds`, in seconds. Default {@link DEFAULT_CALL_BUCKETS}. Only the first registration in a registry and prefix sets them. */
  buckets?: readonly number[];
}

/** What {@link registerMetrics} returns. */
export interface GleanMetrics {
  /**
   * Stops counting this Glean's calls and events, and its gauges leave the next collection; the
   * last registration in a registry and prefix removes the metrics from the registry. Idempotent.
   */
  unregister(): void;
}

/** The families of each registry, by prefix. */
const FAMILIES = new WeakMap<Registry, Map<string, MetricFamilies>>();

/**
 * Registers glean's metrics for `glean` in `options.registry` (README, "Metrics"). Several Gleans may
 * share one registry: they share its metrics, and series of equal labels add up. Throws a TypeError
 * when prom-client is not installed, when `glean` is not a Glean, or when `registry` is not a
 * prom-client registry; prom-client's own error when another metric of the same name is registered
 * there already. Starts no timer: the gauges are read from `glean.status()` as the registry is collected.
 */
export function registerMetrics(glean: Glean, options: MetricsOptions): GleanMetrics {
  const engine = engineOf(glean);
  if (engine === undefined) throw new TypeError('registerMetrics() expects a Glean as its first argument');
  const { registry, prefix = '', buckets = DEFAULT_CALL_BUCKETS } = options;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.removeSingleMetric !== 'function')
    throw new TypeError('registerMetrics(): options.registry must be a prom-client Registry');
  if (typeof prefix !== 'string')
    throw new TypeError(`registerMetrics(): prefix must be a string, received ${typeof prefix}`);
  const client = promClient();
  const byPrefix = FAMILIES.get(registry) ?? new Map<string, MetricFamilies>();
  FAMILIES.set(registry, byPrefix);
  let families = byPrefix.get(prefix);
  if (families === undefined) {
    families = new MetricFamilies(client, registry, prefix, buckets);
    byPrefix.set(prefix, families);
  }
  families.add(glean);
  const stop = [
    countCalls(engine, families),
    countEvents(glean, families),
    onReloadFailed(engine, (error) => families.reloads.inc({ id: error.id ?? '', outcome: 'failed' })),
  ];
  let registered = true;
  const shared = families;
  return {
    unregister() {
      if (!registered) return;
      registered = false;
      for (const end of stop) end();
      if (!shared.remove(glean) && byPrefix.get(prefix) === shared) byPrefix.delete(prefix);
    },
  };
}

/** Counts `glean`'s calls where its handles count them: in flight from the call, counted and timed once settled. */
function countCalls(engine: GleanEngine, families: MetricFamilies): () => void {
  return observeCalls(engine, {
    started: (id) => families.started(id),
    settled: (id, version, failed, error, ms) =>
      families.settled(id, version, failed ? rejectedOutcome(error) : CallOutcome.OK, ms / 1000),
  });
}

/** The reload and crash events of `glean`: a reload per id, a restart per id of the version that crashed. */
function countEvents(glean: Glean, families: MetricFamilies): () => void {
  const reloaded = ({ id }: ReloadEvent): void => void families.reloads.inc({ id, outcome: 'ok' });
  const crashed = ({ ids, version, restarting }: CrashEvent): void => {
    if (!restarting) return;
    for (const id of ids) families.restarts.inc({ id, version: version.version });
  };
  glean.on('reload', reloaded);
  glean.on('crash', crashed);
  return () => {
    glean.off('reload', reloaded);
    glean.off('crash', crashed);
  };
}
