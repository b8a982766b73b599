/**
 * Metrics in the application's own prom-client registry, with real threads: after a known sequence
 * of calls, reloads, crashes and a canary, each metric holds the values that sequence makes
 * (counted on the main thread where glean counts each call, and from the events; gauges read from
 * status() as the registry is collected); a prefix, two Gleans in one registry, and unregistering.
 */
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, withOptions, type CrashEvent, type Glean } from '@glean/core';
import { registerMetrics } from '@glean/core/metrics';
import { CANARY, canaryEntry, STABLE } from './helpers/canary.js';
import { rejectionOf } from './helpers/errors.js';
import { gate } from './helpers/gate.js';
import { startGlean } from './helpers/glean.js';
import { nextEvent, onCleanup, until } from './helpers/index.js';

const CALC = `
export const calc = {
  twice(n) { return 2 * n; },
  fail(code) { const error = new Error('no such thing'); error.code = code; throw error; },
  async slow(ms) { await new Promise((resolve) => setTimeout(resolve, ms)); return ms; },
  crash() { process.exit(3); },
};
`;

interface Calc {
  twice(n: number): number;
  fail(code: string): never;
  slow(ms: number): number;
  crash(): never;
}

/** A plugin whose `held(door)` waits at the gate named `door` (test/helpers/gate.ts) until the test opens it. */
const HELD = `
export async function held(door) {
  const channel = new BroadcastChannel(door);
  const opened = new Promise((resolve) => (channel.onmessage = (event) => event.data === 'open' && resolve()));
  channel.postMessage('ready');
  await opened;
  channel.close();
  return door;
}
`;

type Labels = Record<string, string | number>;

/** A registry of the test's own, with glean's metrics for `glean`; unregistered after the test. */
function metricsOf(glean: Glean, prefix?: string): Registry {
  const registry = new Registry();
  const metrics = registerMetrics(glean, prefix === undefined ? { registry } : { registry, prefix });
  onCleanup(() => metrics.unregister());
  return registry;
}

/** Every sample of `metric` (`glean_calls_total`, or `glean_call_duration_seconds_count` of a histogram) as `labels → value`. */
async function samples(registry: Registry, metric: string): Promise<{ labels: Labels; value: number }[]> {
  const family = (await registry.getMetricsAsJSON()).find(
    ({ name }) => metric === name || metric.startsWith(`${name}_`),
  );
  if (family === undefined) return [];
  return (family.values as { labels: Labels; value: number; metricName?: string }[])
    .filter(({ metricName }) => (metricName ?? family.name) === metric)
    .map(({ labels, value }) => ({ labels: { ...labels }, value }));
}

/** The value of `metric` at exactly `labels`; `undefined` when there is no such series. */
async function sample(registry: Registry, metric: string, labels: Labels): Promise<number | undefined> {
  const found = (await samples(registry, metric)).filter(
    (entry) => JSON.stringify(Object.entries(entry.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
  );
  return found[0]?.value;
}

describe('calls', () => {
  it('counts every call by id, version and outcome, times it, and keeps the calls in flight', async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC, 'held.mjs': HELD },
      config: [
        { id: 'Calc', file: 'calc.mjs', name: 'calc', version: '1.0' },
        { id: 'Held', file: 'held.mjs', name: 'held', version: '1' },
      ],
    });
    // After startGlean: a gate is opened before the Glean it holds calls of is closed.
    const door = gate();
    const calc = await glean.reloadAndWatch<Calc>('Calc');
    const held = await glean.reloadAndWatch<(door: string) => Promise<string>>('Held');
    const registry = metricsOf(glean);

    for (const n of [1, 2, 3]) await calc.twice(n);
    await rejectionOf(calc.fail('E_NOPE'), Error);
    await rejectionOf(calc.fail('GLEAN_TIMEOUT'), Error);
    expect((await rejectionOf(withOptions(calc, { timeoutMs: 50 }).slow(400))).code).toBe(ErrorCode.TIMEOUT);
    await calc.slow(300);
    const waiting = held(door.name);
    await door.ready(1);
    expect(await sample(registry, 'glean_calls_in_flight', { id: 'Held' })).toBe(1);
    expect(await sample(registry, 'glean_calls_in_flight', { id: 'Calc' })).toBe(0);
    door.open();
    await waiting;
    expect(await sample(registry, 'glean_calls_in_flight', { id: 'Held' })).toBe(0);
    await glean.release(calc);
    await rejectionOf(calc.twice(1));

    expect(await samples(registry, 'glean_calls_total')).toEqual(
      expect.arrayContaining([
        { labels: { id: 'Calc', version: '1.0', outcome: 'ok' }, value: 4 },
        // The plugin's own codes, GLEAN_-like or not, are all one outcome.
        { labels: { id: 'Calc', version: '1.0', outcome: 'error' }, value: 2 },
        { labels: { id: 'Calc', version: '1.0', outcome: 'GLEAN_TIMEOUT' }, value: 1 },
        { labels: { id: 'Calc', version: '', outcome: 'GLEAN_RELEASED' }, value: 1 },
        { labels: { id: 'Held', version: '1', outcome: 'ok' }, value: 1 },
      ]),
    );
    expect(await samples(registry, 'glean_calls_total')).toHaveLength(5);
    expect(await sample(registry, 'glean_call_duration_seconds_count', { id: 'Calc', version: '1.0' })).toBe(7);
    // The timed-out call took its 50 ms, the slow one its 300: at least 0.35 s in all.
    const sum = await sample(registry, 'glean_call_duration_seconds_sum', { id: 'Calc', version: '1.0' });
    expect(sum).toBeGreaterThanOrEqual(0.35);
    // Every call is in the +Inf bucket; the slow one (300 ms at least) is above 0.25 s whatever the load.
    expect(
      await sample(registry, 'glean_call_duration_seconds_bucket', { id: 'Calc', version: '1.0', le: '+Inf' }),
    ).toBe(7);
    expect(
      await sample(registry, 'glean_call_duration_seconds_bucket', { id: 'Calc', version: '1.0', le: 0.25 }),
    ).toBeLessThanOrEqual(6);
  });
  it('keeps the calls in flight of a registration made while another was counting a call: that call is not its to count down', async () => {
    const { glean } = await startGlean({
      files: { 'held.mjs': HELD },
      config: [{ id: 'Held', file: 'held.mjs', name: 'held', version: '1' }],
    });
    // After startGlean: a gate is opened before the Glean it holds calls of is closed.
    const first = gate();
    const second = gate();
    const held = await glean.reloadAndWatch<(door: string) => Promise<string>>('Held');
    metricsOf(glean);
    const a = held(first.name);
    await first.ready(1);
    const registry = metricsOf(glean);
    const b = held(second.name);
    await second.ready(1);
    expect(await sample(registry, 'glean_calls_in_flight', { id: 'Held' })).toBe(1);
    first.open();
    await a;
    expect(await sample(registry, 'glean_calls_in_flight', { id: 'Held' })).toBe(1);
    second.open();
    await b;
    expect(await sample(registry, 'glean_calls_in_flight', { id: 'Held' })).toBe(0);
  });
  it('leaves no calls-in-flight series for an id taken out of the config', async () => {
    const { glean, temp } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [
        { id: 'Calc', file: 'calc.mjs', name: 'calc', version: '1' },
        { id: 'Gone', file: 'calc.mjs', name: 'calc', version: '1' },
      ],
    });
    const gone = await glean.reloadAndWatch<Calc>('Gone');
    const registry = metricsOf(glean);
    await gone.twice(1);
    expect(await samples(registry, 'glean_calls_in_flight')).toEqual([
      { labels: { id: 'Calc' }, value: 0 },
      { labels: { id: 'Gone' }, value: 0 },
    ]);
    await temp.replace('plugin.json', [{ id: 'Calc', file: 'calc.mjs', name: 'calc', version: '1' }]);
    await glean.reloadConfig();
    expect(glean.status().Gone).toBeUndefined();
    expect(await samples(registry, 'glean_calls_in_flight')).toEqual([{ labels: { id: 'Calc' }, value: 0 }]);
  });
  it('reads status() once per collection, whichever way the registry is collected', async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Calc', file: 'calc.mjs', name: 'calc', version: '1' }],
    });
    const registry = metricsOf(glean);
    const status = vi.spyOn(glean, 'status');
    await registry.getMetricsAsJSON();
    expect(status).toHaveBeenCalledTimes(1);
    await registry.metrics();
    expect(status).toHaveBeenCalledTimes(2);
  });
});

describe('reloads, crashes and threads', () => {
  it('counts reloads that switched and reloads that failed, restarts after crashes, and reads threads and versions from status()', async () => {
    const { glean, temp } = await startGlean({
      files: { 'v1.mjs': CALC, 'v2.mjs': `${CALC}// v2\n` },
      config: [{ id: 'Calc', file: 'v1.mjs', name: 'calc', version: '1', threads: 2 }],
    });
    const calc = await glean.reloadAndWatch<Calc>('Calc');
    const registry = metricsOf(glean);
    const v1 = glean.status().Calc!;
    expect(await samples(registry, 'glean_worker_threads')).toEqual([
      { labels: { id: 'Calc', version: '1' }, value: 2 },
    ]);
    expect(await samples(registry, 'glean_plugin_info')).toEqual([
      { labels: { id: 'Calc', version: '1', file: temp.path('v1.mjs'), hash: v1.graphHash }, value: 1 },
    ]);

    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    expect((await rejectionOf(calc.crash())).code).toBe(ErrorCode.PLUGIN_CRASHED);
    await crashed;
    expect(await samples(registry, 'glean_worker_restarts_total')).toEqual([
      { labels: { id: 'Calc', version: '1' }, value: 1 },
    ]);
    expect(
      await sample(registry, 'glean_calls_total', { id: 'Calc', version: '1', outcome: 'GLEAN_PLUGIN_CRASHED' }),
    ).toBe(1);

    await temp.replace('plugin.json', [{ id: 'Calc', file: 'v2.mjs', name: 'calc', version: '2', threads: 1 }]);
    await glean.reloadConfig();
    await temp.replace('plugin.json', [{ id: 'Calc', file: 'missing.mjs', name: 'calc', version: '3' }]);
    expect((await rejectionOf(glean.reloadConfig())).code).toBe(ErrorCode.LOAD_FAILED);
    await temp.replace('plugin.json', '{ not json');
    expect((await rejectionOf(glean.reloadConfig())).code).toBe(ErrorCode.CONFIG_INVALID);

    expect(await samples(registry, 'glean_reloads_total')).toEqual(
      expect.arrayContaining([
        { labels: { id: 'Calc', outcome: 'ok' }, value: 1 },
        { labels: { id: 'Calc', outcome: 'failed' }, value: 1 },
        // A config that is not valid names no id.
        { labels: { id: '', outcome: 'failed' }, value: 1 },
      ]),
    );
    expect(await samples(registry, 'glean_reloads_total')).toHaveLength(3);
    const v2 = glean.status().Calc!;
    expect(await samples(registry, 'glean_worker_threads')).toEqual([
      { labels: { id: 'Calc', version: '2' }, value: 1 },
    ]);
    expect(await samples(registry, 'glean_plugin_info')).toEqual([
      { labels: { id: 'Calc', version: '2', file: temp.path('v2.mjs'), hash: v2.graphHash }, value: 1 },
    ]);
  });

  it('gives a canary its weight, threads and info beside the stable, its calls under its version, and weight 0 once rolled back', async () => {
    const { glean, temp } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 25, intervalMs: 600_000 })],
    });
    const foo = await glean.reloadAndWatch<() => string>('Foo');
    const registry = metricsOf(glean);
    expect(await samples(registry, 'glean_canary_weight')).toEqual([
      { labels: { id: 'Foo', version: '2.0' }, value: 25 },
    ]);
    expect(await samples(registry, 'glean_worker_threads')).toEqual([
      { labels: { id: 'Foo', version: '1.0' }, value: 1 },
      { labels: { id: 'Foo', version: '2.0' }, value: 1 },
    ]);
    const status = glean.status().Foo!;
    expect(await samples(registry, 'glean_plugin_info')).toEqual([
      { labels: { id: 'Foo', version: '1.0', file: temp.path('v1.mjs'), hash: status.graphHash }, value: 1 },
      { labels: { id: 'Foo', version: '2.0', file: temp.path('v2.mjs'), hash: status.canary!.graphHash }, value: 1 },
    ]);
    for (let i = 0; i < 3; i++) await withOptions(foo, { version: '2.0' })();
    await withOptions(foo, { version: '1.0' })();
    expect(await sample(registry, 'glean_calls_total', { id: 'Foo', version: '2.0', outcome: 'ok' })).toBe(3);
    expect(await sample(registry, 'glean_calls_total', { id: 'Foo', version: '1.0', outcome: 'ok' })).toBe(1);

    await glean.rollback('Foo');
    expect(await samples(registry, 'glean_canary_weight')).toEqual([
      { labels: { id: 'Foo', version: '2.0' }, value: 0 },
    ]);
    expect(await samples(registry, 'glean_worker_threads')).toEqual([
      { labels: { id: 'Foo', version: '1.0' }, value: 1 },
    ]);
    expect((await samples(registry, 'glean_plugin_info')).map(({ labels }) => labels.version)).toEqual(['1.0']);
  });
});

describe('registration', () => {
  it('puts the prefix before every name', async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Calc', file: 'calc.mjs', name: 'calc', version: '1' }],
    });
    const calc = await glean.reloadAndWatch<Calc>('Calc');
    const registry = metricsOf(glean, 'myapp_');
    await calc.twice(1);
    expect((await registry.getMetricsAsJSON()).map(({ name }) => name)).toEqual([
      'myapp_glean_calls_total',
      'myapp_glean_call_duration_seconds',
      'myapp_glean_calls_in_flight',
      'myapp_glean_reloads_total',
      'myapp_glean_worker_restarts_total',
      'myapp_glean_worker_threads',
      'myapp_glean_plugin_info',
      'myapp_glean_canary_weight',
    ]);
    expect(await sample(registry, 'myapp_glean_calls_total', { id: 'Calc', version: '1', outcome: 'ok' })).toBe(1);
  });

  it('shares one registry between two Gleans, and unregistering each stops its counting; the last takes the metrics out', async () => {
    const files = { 'calc.mjs': CALC };
    const one = await startGlean({ files, config: [{ id: 'One', file: 'calc.mjs', name: 'calc', version: '1' }] });
    const two = await startGlean({ files, config: [{ id: 'Two', file: 'calc.mjs', name: 'calc', version: '1' }] });
    const registry = new Registry();
    const first = registerMetrics(one.glean, { registry });
    const second = registerMetrics(two.glean, { registry });
    onCleanup(() => {
      first.unregister();
      second.unregister();
    });
    const a = await one.glean.reloadAndWatch<Calc>('One');
    const b = await two.glean.reloadAndWatch<Calc>('Two');
    await a.twice(1);
    await b.twice(1);
    await b.twice(2);
    expect(await samples(registry, 'glean_calls_total')).toEqual([
      { labels: { id: 'One', version: '1', outcome: 'ok' }, value: 1 },
      { labels: { id: 'Two', version: '1', outcome: 'ok' }, value: 2 },
    ]);
    expect((await samples(registry, 'glean_worker_threads')).map(({ labels }) => labels.id)).toEqual(['One', 'Two']);

    first.unregister();
    first.unregister();
    await a.twice(1);
    await b.twice(1);
    expect(await samples(registry, 'glean_calls_total')).toEqual([
      { labels: { id: 'One', version: '1', outcome: 'ok' }, value: 1 },
      { labels: { id: 'Two', version: '1', outcome: 'ok' }, value: 3 },
    ]);
    expect((await samples(registry, 'glean_worker_threads')).map(({ labels }) => labels.id)).toEqual(['Two']);

    second.unregister();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    // Registered again from nothing.
    const again = registerMetrics(one.glean, { registry });
    onCleanup(() => again.unregister());
    await a.twice(1);
    expect(await samples(registry, 'glean_calls_total')).toEqual([
      { labels: { id: 'One', version: '1', outcome: 'ok' }, value: 1 },
    ]);
  });

  it('leaves a closed Glean out of the gauges, and starts no timer that would hold the process', async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Calc', file: 'calc.mjs', name: 'calc', version: '1' }],
    });
    const before = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const registry = metricsOf(glean);
    expect(process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length).toBe(before);
    expect(await samples(registry, 'glean_worker_threads')).toHaveLength(1);
    await glean.close();
    await until(async () => (await samples(registry, 'glean_worker_threads')).length === 0, 'no threads gauge');
    expect(await samples(registry, 'glean_plugin_info')).toEqual([]);
  });

  it('refuses what is not a Glean or not a registry, with a TypeError', async () => {
    const { glean } = await startGlean({ files: { 'calc.mjs': CALC }, config: [] });
    expect(() => registerMetrics({} as Glean, { registry: new Registry() })).toThrow(TypeError);
    expect(() => registerMetrics(glean, { registry: {} as Registry })).toThrow(
      'registerMetrics(): options.registry must be a prom-client Registry',
    );
  });
});
