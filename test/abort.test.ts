/**
 * Per-call options: `withOptions(handle, { signal, timeoutMs })` is a handle of the same kind whose
 * calls take that AbortSignal (rejecting `GLEAN_ABORTED`, with the signal's reason as `cause`) or
 * that timeout. A call with no timeout on a plugin that never answers pends until close(); a signal
 * is the documented way to bound it. An aborted call that has not reached a worker never runs.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, withOptions, type CrashEvent } from '@glean/core';
import { CRASH_LIMIT } from '@glean/core/limits';
import { nextEvent, type Entry } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';
import {
  expectThreadsBackAfterClose,
  failOnHostUnhandledRejections,
  settledWithin,
  rejectedWith,
} from './helpers/faults.js';

failOnHostUnhandledRejections();

/** The code of an aborted call (named here as a string: the table entry comes with the API). */
const ABORTED = 'GLEAN_ABORTED';

/** Every export counts its runs in the same module, so `runs()` tells whether a call reached the plugin. */
const PLUGIN = `
let runs = 0;
export function never() { runs++; return new Promise(() => {}); }
export function runCount() { return runs; }
export const Calc = {
  add(a, b) { runs++; return a + b; },
  slow(ms) { runs++; return new Promise((resolve) => setTimeout(resolve, ms, 'slow')); },
  runs() { return runs; },
};
`;

interface Calc {
  add(a: number, b: number): number;
  slow(ms: number): Promise<string>;
  runs(): number;
}

/** A Glean over the plugin, every id on one version (same file, same options): one worker, one counter. Closed after the test. */
async function setup(options: Record<string, unknown> = {}) {
  // A short drain: a call left running in the worker would otherwise hold close() for the default 30 s.
  options = { drainTimeoutMs: 500, ...options };
  const entries: Entry[] = [
    { id: 'Never', file: 'plugin.mjs', name: 'never', ...options },
    { id: 'Runs', file: 'plugin.mjs', name: 'runCount', ...options },
    { id: 'Calc', file: 'plugin.mjs', name: 'Calc', ...options },
  ];
  const { glean, baseline } = await startGlean({
    files: { 'plugin.mjs': PLUGIN },
    config: entries,
    configName: 'glean.json',
  });
  const never = await glean.reloadAndWatch<() => Promise<never>>('Never');
  const runs = await glean.reloadAndWatch<() => number>('Runs');
  const calc = await glean.reloadAndWatch<Calc>('Calc');
  return { glean, baseline, never, runs, calc };
}

describe('withOptions(handle, { signal })', () => {
  it("rejects a call on a plugin that never answers GLEAN_ABORTED when AbortSignal.timeout(200) fires, with the signal's reason as cause", async () => {
    const s = await setup();
    const signal = AbortSignal.timeout(200);
    const never = withOptions(s.never, { signal });
    expect(typeof never).toBe('function');

    const startedAt = performance.now();
    const error = rejectedWith(await settledWithin(never(), 2000), ABORTED);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(150);
    expect(error.cause).toBe(signal.reason);
    expect(error.id).toBe('Never');
    expect(await s.runs()).toBe(1);
    await expectThreadsBackAfterClose(s);
  });

  it('rejects at once for a signal already aborted, without running the plugin', async () => {
    const s = await setup();
    const controller = new AbortController();
    const reason = new Error('the caller went away');
    controller.abort(reason);

    const error = rejectedWith(
      await settledWithin(withOptions(s.never, { signal: controller.signal })(), 200),
      ABORTED,
    );
    expect(error.cause).toBe(reason);
    rejectedWith(await settledWithin(withOptions(s.calc, { signal: controller.signal }).add(1, 2), 200), ABORTED);
    expect(await s.runs()).toBe(0);
    await expectThreadsBackAfterClose(s);
  });

  it('takes a call queued behind a busy worker (concurrency 1) out of the queue when aborted: it rejects at once and never runs', async () => {
    const s = await setup({ concurrency: 1 });
    const running = s.calc.slow(400);
    const controller = new AbortController();
    const queued = settledWithin(withOptions(s.calc, { signal: controller.signal }).add(1, 2), 300);
    expect(s.glean.status()['Calc']!.inFlight).toBe(2);

    controller.abort();
    const error = rejectedWith(await queued, ABORTED);
    expect(error.cause).toBe(controller.signal.reason);
    // Only the running call is left: the aborted one is no longer queued.
    expect(s.glean.status()['Calc']!.inFlight).toBe(1);
    expect(await running).toBe('slow');
    expect(await s.calc.runs()).toBe(1);
    await expectThreadsBackAfterClose(s);
  });

  it('works on object handles: withOptions(calc, { signal }).add(1, 2) answers while the signal is not aborted, and the original handle is unchanged', async () => {
    const s = await setup();
    const controller = new AbortController();
    const calc = withOptions(s.calc, { signal: controller.signal });
    expect(await calc.add(1, 2)).toBe(3);

    controller.abort();
    rejectedWith(await settledWithin(calc.add(2, 3), 200), ABORTED);
    // The signal belongs to the derived handle only.
    expect(await s.calc.add(2, 3)).toBe(5);
    expect(await s.calc.runs()).toBe(2);
    await expectThreadsBackAfterClose(s);
  });
});

describe('withOptions(handle, { timeoutMs })', () => {
  it('rejects a call that never answers GLEAN_TIMEOUT after timeoutMs 100, with no timeoutMs configured', async () => {
    const s = await setup();
    const startedAt = performance.now();
    const error = rejectedWith(
      await settledWithin(withOptions(s.never, { timeoutMs: 100 })(), 2000),
      ErrorCode.TIMEOUT,
    );
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(90);
    expect(error.id).toBe('Never');
    await expectThreadsBackAfterClose(s);
  });

  it("overrides the configured timeoutMs for that handle's calls only", async () => {
    const s = await setup({ timeoutMs: 60_000 });
    rejectedWith(await settledWithin(withOptions(s.never, { timeoutMs: 100 })(), 2000), ErrorCode.TIMEOUT);
    // The handle without options keeps the configured 60 s: still pending well after 100 ms.
    expect(await settledWithin(s.never(), 300)).toBe('pending');
    await expectThreadsBackAfterClose(s);
  });
});

describe('withOptions() and what it is given', () => {
  it('refuses a signal that is not an AbortSignal with a TypeError, before any call, so no worker is disturbed', async () => {
    const { glean, calc } = await setup();
    expect(() => withOptions(calc, { signal: null as unknown as AbortSignal })).toThrow(TypeError);
    expect(() => withOptions(calc, { signal: {} as AbortSignal })).toThrow(TypeError);
    expect(() => withOptions(calc, { timeoutMs: 0 })).toThrow(RangeError);
    expect(await calc.add(1, 2)).toBe(3);
    expect(glean.status()['Calc']?.restarts).toBe(0);
  });

  it('leaves a worker that is busy for less than a second alone when a call on it is aborted: the call rejects GLEAN_ABORTED, the worker finishes it and keeps serving', async () => {
    const busy = await busySetup();
    const thread = await busy.handle.threadId();
    // Shorter than the 1 s a worker has to answer the ping that follows an abort.
    rejectedWith(
      await settledWithin(withOptions(busy.handle, { signal: AbortSignal.timeout(50) }).spin(500), 1000),
      ABORTED,
    );
    expect(await busy.handle.threadId()).toBe(thread);
    expect(busy.glean.status()['Busy']?.restarts).toBe(0);
  });

  it('replaces a worker that stays stuck after a call on it was aborted, without counting it as a crash: more aborted hangs than CRASH_LIMIT leave the version serving', async () => {
    const busy = await busySetup();
    for (let round = 0; round <= CRASH_LIMIT; round++) {
      const thread = await busy.handle.threadId();
      const replaced = nextEvent<CrashEvent>(busy.glean, 'crash', (crash) => crash.threadId === thread, 5000);
      rejectedWith(
        await settledWithin(withOptions(busy.handle, { signal: AbortSignal.timeout(20) }).hang(), 1000),
        ABORTED,
      );
      // No answer to the ping within 1 s: the worker is replaced, not failed, and the next call reaches the new one.
      expect(await replaced).toMatchObject({ restarting: true, failed: false });
      expect(await busy.handle.threadId()).not.toBe(thread);
    }
    expect(busy.glean.status()['Busy']?.state).toBe('ready');
  }, 30_000);
});

/** A Glean over a plugin whose calls keep its worker busy (`spin`) or stuck (`hang`); closed after the test. */
async function busySetup() {
  const { glean } = await startGlean({
    files: {
      'busy.mjs': `import { threadId } from 'node:worker_threads';
export const Busy = {
  threadId() { return threadId; },
  spin(ms) { const end = Date.now() + ms; while (Date.now() < end); return 'spun'; },
  hang() { for (;;); },
};
`,
    },
    config: [{ id: 'Busy', file: 'busy.mjs', name: 'Busy', drainTimeoutMs: 500 }],
    configName: 'glean.json',
  });
  const handle = await glean.reloadAndWatch<{ threadId(): number; spin(ms: number): string; hang(): never }>('Busy');
  return { glean, handle };
}
