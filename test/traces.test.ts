/**
 * Traces through node:diagnostics_channel, with real threads: every handle call is published on the
 * `glean.call` tracing channel (start, end, asyncStart, asyncEnd, and error on a rejection) with one
 * context naming the id, the version the call went to (a canary's, when routed there), its file,
 * export, method and the worker thread it was sent to; the reload, crash, retire and rollback events
 * are published on channels of their own, with the Glean that emitted them.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  ErrorCode,
  GleanChannel,
  loadSymbol,
  release,
  withOptions,
  type CrashEvent,
  type ReloadEvent,
  type RetireEvent,
  type RollbackEvent,
} from '@glean/core';
import { CANARY, canaryEntry, STABLE } from './helpers/canary.js';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';
import { nextEvent, onCleanup, until } from './helpers/index.js';

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';

/** Every event of `glean.call` from now to the end of the test, in order, with the context it carried. */
function recordCalls(): { phase: Phase; context: CallContext }[] {
  const seen: { phase: Phase; context: CallContext }[] = [];
  const on = (phase: Phase) => (context: unknown) => seen.push({ phase, context: context as CallContext });
  const subscribers = {
    start: on('start'),
    end: on('end'),
    asyncStart: on('asyncStart'),
    asyncEnd: on('asyncEnd'),
    error: on('error'),
  };
  const calls = tracingChannel(GleanChannel.CALL);
  calls.subscribe(subscribers);
  onCleanup(() => calls.unsubscribe(subscribers));
  return seen;
}

/** Every message published on `name` from now to the end of the test. */
function recordChannel<T>(name: string): T[] {
  const seen: T[] = [];
  const listener = (message: unknown): void => void seen.push(message as T);
  channel(name).subscribe(listener);
  onCleanup(() => channel(name).unsubscribe(listener));
  return seen;
}

const CALC = `
export function add(a, b) { return a + b; }
export const calc = {
  twice(n) { return 2 * n; },
  fail(code) { const error = new Error('no such thing'); error.code = code; throw error; },
};
export async function slow(ms) { await new Promise((resolve) => setTimeout(resolve, ms)); return ms; }
export function crash() { process.exit(7); }
`;

describe('glean.call', () => {
  it('publishes start, end, asyncStart and asyncEnd around a call, with one context naming the version and the thread that ran it', async () => {
    const { glean, temp } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Add', file: 'calc.mjs', name: 'add', version: '1.0' }],
    });
    const add = await glean.reloadAndWatch<(a: number, b: number) => number>('Add');
    const seen = recordCalls();
    await expect(add(2, 3)).resolves.toBe(5);
    expect(seen.map(({ phase }) => phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const context = seen[0]!.context;
    for (const { context: other } of seen) expect(other).toBe(context);
    const [thread] = glean.status().Add!.threads;
    expect(context).toEqual({
      glean,
      id: 'Add',
      version: '1.0',
      file: temp.path('calc.mjs'),
      export: 'add',
      method: null,
      canary: false,
      threadId: thread!.threadId,
      result: 5,
    });
  });

  it("names the method of an object export, and publishes error with the plugin's own error", async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Calc', file: 'calc.mjs', name: 'calc' }],
    });
    const calc = await glean.reloadAndWatch<{ twice(n: number): number; fail(code: string): never }>('Calc');
    const seen = recordCalls();
    await expect(calc.twice(21)).resolves.toBe(42);
    const error = await rejectionOf(calc.fail('E_NOPE'), Error);
    expect(error.code).toBe('E_NOPE');
    expect(seen.map(({ phase, context }) => `${context.method}:${phase}`)).toEqual([
      'twice:start',
      'twice:end',
      'twice:asyncStart',
      'twice:asyncEnd',
      'fail:start',
      'fail:end',
      'fail:error',
      'fail:asyncStart',
      'fail:asyncEnd',
    ]);
    const failed = seen.at(-1)!.context;
    expect(failed.error).toBe(error);
    expect(failed).toMatchObject({ id: 'Calc', version: '', export: 'calc', method: 'fail' });
    expect(failed.threadId).toBe(glean.status().Calc!.threads[0]!.threadId);
  });

  it('gives a queued call its thread only once a worker takes it', async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Slow', file: 'calc.mjs', name: 'slow', concurrency: 1 }],
    });
    const slow = await glean.reloadAndWatch<(ms: number) => number>('Slow');
    const seen = recordCalls();
    const first = slow(100);
    const second = slow(1);
    const [one, two] = seen.filter(({ phase }) => phase === 'start').map(({ context }) => context);
    const threadId = glean.status().Slow!.threads[0]!.threadId;
    expect(one!.threadId).toBe(threadId);
    expect(two!.threadId).toBeNull();
    await Promise.all([first, second]);
    expect(two!.threadId).toBe(threadId);
  });

  it('names the worker that crashed under a call, and the crash error', async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Crash', file: 'calc.mjs', name: 'crash' }],
    });
    const crash = await glean.reloadAndWatch<() => never>('Crash');
    const seen = recordCalls();
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    const error = await rejectionOf(crash());
    expect(error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    const errored = seen.find(({ phase }) => phase === 'error')!.context;
    expect(errored.error).toBe(error);
    expect(errored.threadId).toBe((await crashed).threadId);
  });

  it('publishes a call no version can take, with the version, file and export null', async () => {
    const { glean } = await startGlean({
      files: { 'calc.mjs': CALC },
      config: [{ id: 'Add', file: 'calc.mjs', name: 'add' }],
    });
    const add = await glean.reloadAndWatch<(a: number, b: number) => number>('Add');
    await glean.release(add);
    const seen = recordCalls();
    const error = await rejectionOf(add(1, 2));
    expect(error.code).toBe(ErrorCode.RELEASED);
    expect(seen.map(({ phase }) => phase)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(seen[0]!.context).toEqual({
      glean,
      id: 'Add',
      version: null,
      file: null,
      export: null,
      method: null,
      canary: false,
      threadId: null,
      error,
    });
  });

  it('names the version a canary routed the call to, and says it is the canary', async () => {
    const { glean, temp } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 50, intervalMs: 600_000 })],
    });
    const foo = await glean.reloadAndWatch<() => string>('Foo');
    const seen = recordCalls();
    await expect(withOptions(foo, { version: '2.0' })()).resolves.toBe('v2');
    await expect(withOptions(foo, { version: '1.0' })()).resolves.toBe('v1');
    const [canary, stable] = seen.filter(({ phase }) => phase === 'asyncEnd').map(({ context }) => context);
    const status = glean.status().Foo!;
    expect(canary).toMatchObject({ version: '2.0', file: temp.path('v2.mjs'), canary: true });
    expect(canary!.threadId).toBe(status.canary!.threads[0]!.threadId);
    expect(stable).toMatchObject({ version: '1.0', file: temp.path('v1.mjs'), canary: false });
    expect(stable!.threadId).toBe(status.threads[0]!.threadId);
  });

  it("traces a loadSymbol handle's calls with no Glean", async () => {
    const { temp } = await startGlean({ files: { 'calc.mjs': CALC }, config: [] });
    const add = await loadSymbol<(a: number, b: number) => number>(temp.path('calc.mjs'), 'add', { version: '3' });
    onCleanup(() => release(add));
    const seen = recordCalls();
    await expect(add(1, 1)).resolves.toBe(2);
    expect(seen[0]!.context).toMatchObject({ glean: undefined, id: 'add', version: '3', export: 'add' });
    expect(seen[0]!.context.threadId).toEqual(expect.any(Number));
  });
});

describe('event channels', () => {
  it('publishes each reload, crash and retire on glean.reload, glean.crash and glean.retire, as the events say them, with the Glean', async () => {
    const { glean, temp } = await startGlean({
      files: { 'v1.mjs': CALC, 'v2.mjs': `${CALC}\n// v2\n` },
      config: [{ id: 'Crash', file: 'v1.mjs', name: 'crash', version: '1' }],
    });
    const reloads = recordChannel<ReloadEvent & { glean: unknown }>(GleanChannel.RELOAD);
    const crashes = recordChannel<CrashEvent & { glean: unknown }>(GleanChannel.CRASH);
    const retires = recordChannel<RetireEvent & { glean: unknown }>(GleanChannel.RETIRE);
    const crash = await glean.reloadAndWatch<() => never>('Crash');
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    await rejectionOf(crash());
    expect(crashes).toEqual([{ ...(await crashed), glean }]);

    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    const retired = nextEvent<RetireEvent>(glean, 'retire');
    await temp.replace('plugin.json', [{ id: 'Crash', file: 'v2.mjs', name: 'crash', version: '2' }]);
    await glean.reloadConfig();
    expect(reloads).toEqual([{ ...(await reloaded), glean }]);
    expect(reloads[0]).toMatchObject({ id: 'Crash', from: { version: '1' }, to: { version: '2' } });
    await retired;
    expect(retires).toEqual([{ ...(await retired), glean }]);
    expect(retires[0]!.version.version).toBe('1');
  });

  it("publishes a canary's rollback on glean.rollback", async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 10, intervalMs: 600_000 })],
    });
    const rollbacks = recordChannel<RollbackEvent & { glean: unknown }>(GleanChannel.ROLLBACK);
    const rolledBack = nextEvent<RollbackEvent>(glean, 'rollback');
    await glean.rollback('Foo');
    await until(() => rollbacks.length === 1, 'the rollback message');
    expect(rollbacks).toEqual([{ ...(await rolledBack), glean }]);
    expect(rollbacks[0]).toMatchObject({ id: 'Foo', version: '2.0', reason: 'manual' });
  });
});
