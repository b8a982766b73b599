/**
 * Calls that take too long: per-call timeouts (a slow or hung call leaves a live worker alone, a
 * blocked one is replaced), drains on reload (bounded by drainTimeoutMs), and queue limits.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, withOptions, type CrashEvent, type ReloadEvent } from '@glean/core';
import { LIVENESS_GRACE_MS } from '@glean/core/limits';
import { nextEvent, until } from './helpers/index.js';
import { expectThreadsBackAfterClose, recordEvents } from './helpers/faults.js';
import { outcomeOf, rejectionOf, type CodeOutcome } from './helpers/errors.js';
import { startGlean, type StartedGlean } from './helpers/glean.js';

interface PluginApi {
  version(): string;
  threadId(): number;
  slow<T>(ms: number, value: T): Promise<T>;
  held<T>(gate: string, value: T): Promise<T>;
  spin(): never;
  never(): Promise<never>;
}

/** `held` runs until the test creates the file `gate`, so a call is surely still running while the test acts. */
const plugin = (version: string): string => `
import { existsSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
export const Plugin = {
  version() { return '${version}'; },
  threadId() { return threadId; },
  slow(ms, value) { return new Promise((resolve) => setTimeout(resolve, ms, value)); },
  held(gate, value) {
    return new Promise((resolve) => {
      const timer = setInterval(() => { if (existsSync(gate)) { clearInterval(timer); resolve(value); } }, 10);
    });
  },
  spin() { for (;;) {} },
  never() { return new Promise(() => {}); },
};
`;

/** A Glean over `plugin.mjs` (version v1) with one entry per `entries` item, all exporting `Plugin`. */
const setup = (entries: Record<string, Record<string, unknown>>): Promise<StartedGlean> =>
  startGlean({
    files: { 'plugin.mjs': plugin('v1') },
    config: Object.entries(entries).map(([id, options]) => ({ id, file: 'plugin.mjs', name: 'Plugin', ...options })),
    configName: 'glean.json',
  });

describe('timeoutMs', () => {
  it('rejects a slow async call GLEAN_TIMEOUT and keeps the worker, whose event loop still answers', async () => {
    const s = await setup({ P: { timeoutMs: 200 } });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    const crashes = recordEvents(s.glean, 'crash');
    const thread = await p.threadId();

    const startedAt = performance.now();
    // The worker finishes the call well after its liveness ping (LIVENESS_GRACE_MS after the timeout) was decided.
    const error = await rejectionOf(p.slow(200 + LIVENESS_GRACE_MS + 800, 'late'));
    expect(error.code).toBe(ErrorCode.TIMEOUT);
    expect(error.id).toBe('P');
    // Not the call's own end, which answers 'late' after 2 s: the timeout rejected it.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(190);
    expect(await p.threadId()).toBe(thread);

    await until(() => s.glean.status()['P']!.threads[0]?.inFlight === 0, 'the timed-out call to finish in the worker');
    const status = s.glean.status()['P']!;
    expect(status.threads).toEqual([{ threadId: thread, inFlight: 0, ready: true }]);
    expect(status.restarts).toBe(0);
    expect(crashes).toEqual([]);
    expect(await p.threadId()).toBe(thread);
    await expectThreadsBackAfterClose(s);
  });

  it('rejects a promise that never settles GLEAN_TIMEOUT and keeps the worker', async () => {
    const s = await setup({ P: {} });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    const thread = await p.threadId();
    const crashed = nextEvent<CrashEvent>(s.glean, 'crash', () => true, 200 + LIVENESS_GRACE_MS + 500);

    // Only this call has the short timeout: the calls after it, on a loaded machine, must not time out too.
    expect((await rejectionOf(withOptions(p, { timeoutMs: 200 }).never())).code).toBe(ErrorCode.TIMEOUT);
    expect(await p.threadId()).toBe(thread);
    // No crash for the whole liveness window: the ping was answered.
    await expect(crashed).rejects.toThrow(/timed out .* waiting for "crash"/);
    expect(await p.threadId()).toBe(thread);
    expect(s.glean.status()['P']!.restarts).toBe(0);
    await expectThreadsBackAfterClose(s);
  });

  it('rejects an endless synchronous loop GLEAN_TIMEOUT, then terminates the blocked worker: calls still on it reject GLEAN_PLUGIN_CRASHED and a new thread serves', async () => {
    const s = await setup({ P: { timeoutMs: 200 } });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    const thread = await p.threadId();
    let crash: CrashEvent | undefined;
    const crashed = nextEvent<CrashEvent>(s.glean, 'crash').then((event) => (crash = event));

    expect((await rejectionOf(p.spin())).code).toBe(ErrorCode.TIMEOUT);
    const timedOutAt = performance.now();
    // Every call on the blocked worker times out after 200 ms, long before the ping's
    // LIVENESS_GRACE_MS runs out; so keep calls coming until the worker is terminated:
    // those sent in its last 200 ms are in flight on it when it dies.
    const outcomes: Promise<CodeOutcome>[] = [];
    while (crash === undefined && performance.now() - timedOutAt < LIVENESS_GRACE_MS + 5000) {
      outcomes.push(outcomeOf(p.threadId()));
      await new Promise((resolve) => setTimeout(resolve, 20)); // pacing the calls, not waiting for a state
    }
    await crashed;
    expect(crash!.threadId).toBe(thread);
    expect(crash!.ids).toEqual(['P']);
    expect(crash!.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(crash!.error.message).toContain('blocked');
    expect(performance.now() - timedOutAt).toBeGreaterThanOrEqual(LIVENESS_GRACE_MS * 0.9);

    const settled = await Promise.all(outcomes);
    const codes = settled.flatMap((outcome) => ('code' in outcome ? [outcome.code] : []));
    expect(codes).toContain(ErrorCode.PLUGIN_CRASHED);
    expect(codes.filter((code) => code !== ErrorCode.TIMEOUT && code !== ErrorCode.PLUGIN_CRASHED)).toEqual([]);
    // Calls made after the worker was terminated waited for its replacement.
    for (const outcome of settled) if ('value' in outcome) expect(outcome.value).not.toBe(thread);

    // The replacement takes calls once it has loaded the plugin; on a busy machine that can take longer than timeoutMs.
    await until(
      () => s.glean.status()['P']!.threads.some((t) => t.ready && t.threadId !== thread),
      'the replacement worker to be ready',
    );
    const next = await p.threadId();
    expect(next).not.toBe(thread);
    const status = s.glean.status()['P']!;
    expect(status.restarts).toBe(1);
    expect(status.threads.map((t) => t.threadId)).toEqual([next]);
    await expectThreadsBackAfterClose(s);
  });

  it('settles a call queued behind a timed-out call that never settles, with concurrency 1', async () => {
    const s = await setup({ P: { timeoutMs: 200, concurrency: 1, drainTimeoutMs: 300 } });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    expect((await rejectionOf(p.never())).code).toBe(ErrorCode.TIMEOUT);

    // Answered by the worker, or rejected GLEAN_TIMEOUT after 200 ms: either way, not left pending.
    const deadline = 200 + LIVENESS_GRACE_MS + 1000;
    const next = await Promise.race([
      outcomeOf(p.version()),
      new Promise<'pending'>((resolve) => setTimeout(resolve, deadline, 'pending')),
    ]);
    expect([{ value: 'v1' }, { code: ErrorCode.TIMEOUT }]).toContainEqual(next);
    await expectThreadsBackAfterClose(s);
  });
});

describe('drain on reload', () => {
  it('sends new calls to the new version at once and rejects a call still running on the old one GLEAN_DRAIN_TIMEOUT after drainTimeoutMs', async () => {
    const s = await setup({ P: { drainTimeoutMs: 300 } });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    const retired = recordEvents(s.glean, 'retire');
    const reloaded = nextEvent<ReloadEvent>(s.glean, 'reload');
    const order: string[] = [];
    const long = rejectionOf(p.slow(5000, 'too late')).finally(() => order.push('old call'));

    await s.temp.write('plugin.mjs', plugin('v2'));
    // The drain starts when the handles switch, which is when 'reload' is emitted: call the new version right then.
    let reloadedAt = Number.NaN;
    let newCall: Promise<string> | undefined;
    s.glean.once('reload', () => {
      reloadedAt = performance.now();
      newCall = p.version().finally(() => order.push('new call'));
    });
    await s.glean.reloadConfig();
    expect(await newCall).toBe('v2');

    const error = await long;
    expect(error.code).toBe(ErrorCode.DRAIN_TIMEOUT);
    expect(error.id).toBe('P');
    expect(performance.now() - reloadedAt).toBeGreaterThanOrEqual(250);
    expect(order).toEqual(['new call', 'old call']);

    const { from } = await reloaded;
    await until(() => retired.length > 0, 'the retire event of the old version');
    expect(retired.map((event) => event.version.contentHash)).toEqual([from.contentHash]);
    await expectThreadsBackAfterClose(s);
  });

  it('lets a call running during a reload finish on the old version, and retires the old version only after it settled', async () => {
    const s = await setup({ P: {} });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    const order: string[] = [];
    s.glean.on('retire', () => order.push('retire'));
    const gate = s.temp.path('gate');
    const running = p.held(gate, 'old result').finally(() => order.push('old call settled'));

    await s.temp.write('plugin.mjs', plugin('v2'));
    await s.glean.reloadConfig();
    expect(await p.version()).toBe('v2');
    expect(order).toEqual([]);

    await s.temp.write('gate', '');
    expect(await running).toBe('old result');
    await until(() => order.includes('retire'), 'the retire event of the old version');
    expect(order).toEqual(['old call settled', 'retire']);
    await expectThreadsBackAfterClose(s);
  });
});

describe('maxQueue', () => {
  it('with maxQueue 0 and concurrency 1 rejects a second call GLEAN_QUEUE_FULL at once while the first runs', async () => {
    const s = await setup({ P: { maxQueue: 0, concurrency: 1 } });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    const gate = s.temp.path('gate');
    const order: string[] = [];
    const first = p.held(gate, 'first').finally(() => order.push('first'));

    const error = await rejectionOf(p.version());
    order.push('second rejected');
    expect(error.code).toBe(ErrorCode.QUEUE_FULL);
    expect(error.id).toBe('P');

    await s.temp.write('gate', '');
    expect(await first).toBe('first');
    expect(order).toEqual(['second rejected', 'first']);
    expect(await p.version()).toBe('v1');
    await expectThreadsBackAfterClose(s);
  });

  it('with maxQueue 1 and concurrency 1 makes a second call wait for the first, then run; a third is rejected GLEAN_QUEUE_FULL', async () => {
    const s = await setup({ P: { maxQueue: 1, concurrency: 1 } });
    const p = await s.glean.reloadAndWatch<PluginApi>('P');
    const gate = s.temp.path('gate');
    const order: string[] = [];
    const first = p.held(gate, 'first').finally(() => order.push('first'));
    const second = p.slow(0, 'second').finally(() => order.push('second'));

    expect((await rejectionOf(p.version())).code).toBe(ErrorCode.QUEUE_FULL);
    expect(s.glean.status()['P']!.inFlight).toBe(2);
    expect(s.glean.status()['P']!.threads[0]!.inFlight).toBe(1);
    expect(order).toEqual([]);

    await s.temp.write('gate', '');
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    expect(order).toEqual(['first', 'second']);
    await expectThreadsBackAfterClose(s);
  });
});
