/**
 * Values that cannot be carried or described. A worker has a bigger stack than the host's main
 * thread, so it can serialise a value nested a few thousand levels deep that the host cannot
 * deserialise: the port emits `messageerror` instead of the message. The reverse happens for
 * arguments when the worker's stack is the smaller one. A result or a thrown value can also fight
 * being copied: throwing getters, Proxies whose traps throw, a `then` that throws, a thenable that
 * answers many times. And an export can fight being described. Each such failure is a coded error
 * for that call (or that reload) alone, at once; the worker is kept and the other calls on it are
 * answered.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, GleanError } from '@glean/core';
import { threadsBackTo } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';
import {
  expectThreadsBackAfterClose,
  failOnHostUnhandledRejections,
  faultySetup,
  recordEvents,
  type FaultySetup,
  settledWithin,
  rejectedWith,
  type Outcome,
} from './helpers/faults.js';

failOnHostUnhandledRejections();

interface Nested {
  v?: Nested;
}

interface FaultyApi {
  threadId(): number;
  /** Resolves with the worker's thread id after `ms`: a call in flight beside the bad one. */
  slow(ms: number): Promise<number>;
  /** `{ v: { v: … {} } }`, `depth` levels deep. */
  deep(depth: number): Nested;
  /** Throws an Error whose `detail` property is nested `depth` levels deep. */
  throwDeep(depth: number): never;
  /** How deep the argument is nested, as the worker read it. */
  depthOf(value: Nested): number;
}

const NEST = `const nest = (depth) => { let v = {}; for (let i = 0; i < depth; i++) v = { v }; return v; };`;

const FAULTY = `
import { threadId } from 'node:worker_threads';
${NEST}
export const Faulty = {
  threadId() { return threadId; },
  slow(ms) { return new Promise((resolve) => setTimeout(resolve, ms, threadId)); },
  deep(depth) { return nest(depth); },
  throwDeep(depth) {
    const error = new Error('a deep detail');
    error.detail = nest(depth);
    throw error;
  },
  depthOf(value) { let depth = 0; for (let v = value; v?.v !== undefined; v = v.v) depth++; return depth; },
};
`;

const nest = (depth: number): Nested => {
  let v: Nested = {};
  for (let i = 0; i < depth; i++) v = { v };
  return v;
};

type Setup = FaultySetup<FaultyApi>;

// A short drain: a call glean lost would otherwise hold close() (and the cleanup after a failed test) for the default 30 s.
const setup = (options: Record<string, unknown> = {}): Promise<Setup> =>
  faultySetup<FaultyApi>(FAULTY, { drainTimeoutMs: 500, ...options });

/** The faulty version still runs on `thread` alone, restarted never, with no crash event. */
async function expectWorkerKept(s: Setup, thread: number): Promise<void> {
  expect(await settledWithin(s.faulty.threadId(), 2000)).toEqual({ value: thread });
  const status = s.glean.status()['Faulty']!;
  expect(status.threads.map((t) => t.threadId)).toEqual([thread]);
  expect(status.restarts).toBe(0);
  expect(s.crashes).toEqual([]);
  expect(await s.healthy('still here')).toBe('still here');
}

describe('a result the host cannot read', () => {
  it.each([3000, 10_000])(
    'nested %i levels deep rejects GLEAN_NOT_CLONEABLE within 2 s; a call beside it on the same worker resolves, and the worker is kept',
    async (depth) => {
      const s = await setup();
      const thread = await s.faulty.threadId();
      // Its outcome is taken at once, so a rejection is never left unhandled whatever fails first.
      const beside = settledWithin(s.faulty.slow(300), 3000);

      const error = rejectedWith(await settledWithin(s.faulty.deep(depth), 2000), ErrorCode.NOT_CLONEABLE);
      expect(error.id).toBe('Faulty');
      expect(await beside).toEqual({ value: thread });
      await expectWorkerKept(s, thread);
      await expectThreadsBackAfterClose(s);
    },
  );

  it('an Error the plugin throws with a property nested 3000 levels deep rejects GLEAN_NOT_CLONEABLE within 2 s, and the worker is kept', async () => {
    const s = await setup();
    const thread = await s.faulty.threadId();
    // Its outcome is taken at once, so a rejection is never left unhandled whatever fails first.
    const beside = settledWithin(s.faulty.slow(300), 3000);

    rejectedWith(await settledWithin(s.faulty.throwDeep(3000), 2000), ErrorCode.NOT_CLONEABLE);
    expect(await beside).toEqual({ value: thread });
    await expectWorkerKept(s, thread);
    await expectThreadsBackAfterClose(s);
  });
});

describe('an argument the worker cannot read', () => {
  it('nested 2500 levels deep, for a worker with a 1 MB stack, rejects GLEAN_NOT_CLONEABLE within 2 s, and the worker is kept', async () => {
    // The host (a main thread) can serialise 2500 levels; a worker whose stack is 1 MB cannot read them back.
    const s = await setup({ resourceLimits: { stackSizeMb: 1 } });
    const thread = await s.faulty.threadId();
    expect(await s.faulty.depthOf(nest(100))).toBe(100);
    // Its outcome is taken at once, so a rejection is never left unhandled whatever fails first.
    const beside = settledWithin(s.faulty.slow(300), 3000);

    rejectedWith(await settledWithin(s.faulty.depthOf(nest(2500)), 2000), ErrorCode.NOT_CLONEABLE);
    expect(await beside).toEqual({ value: thread });
    await expectWorkerKept(s, thread);
    await expectThreadsBackAfterClose(s);
  });
});

describe('a value export the host cannot read', () => {
  it('nested 5000 levels deep makes loadConfig() reject with a GleanError within 3 s, not after the 10 s loadTimeoutMs', async () => {
    const { glean, baseline } = await startGlean({
      files: { 'deep.mjs': `${NEST}\nexport const deep = nest(5000);\n` },
      config: [{ id: 'Deep', file: 'deep.mjs', name: 'deep' }],
      configName: 'glean.json',
      load: false,
    });
    const crashes = recordEvents(glean, 'crash');

    const outcome = await settledWithin(glean.loadConfig(), 3000);
    expect(outcome, 'loadConfig() still pending').not.toBe('pending');
    expect(outcome).toMatchObject({ error: expect.any(GleanError) });
    expect([ErrorCode.NOT_CLONEABLE, ErrorCode.LOAD_FAILED]).toContain((outcome as { error: GleanError }).error.code);
    expect(crashes).toEqual([]);
    await glean.close();
    await threadsBackTo(baseline);
  });
});

interface BadApi {
  threadId(): number;
  slow(ms: number): Promise<number>;
  give(kind: BadKind): unknown;
}

type BadKind =
  | 'throwing getter'
  | 'throwing proxy'
  | 'thrown error with a throwing getter'
  | 'thrown proxy'
  | 'throwing then getter'
  | 'thenable answering many times';

const BAD = `
import { threadId } from 'node:worker_threads';
const boom = (what) => () => { throw new Error(what + ' throws'); };
const hostile = () => new Proxy({}, { get: boom('get'), ownKeys: boom('ownKeys'), getPrototypeOf: boom('getPrototypeOf'), getOwnPropertyDescriptor: boom('getOwnPropertyDescriptor'), has: boom('has') });
export const Faulty = {
  threadId() { return threadId; },
  slow(ms) { return new Promise((resolve) => setTimeout(resolve, ms, threadId)); },
  give(kind) {
    switch (kind) {
      case 'throwing getter': return { get x() { throw new Error('boom'); } };
      case 'throwing proxy': return hostile();
      case 'thrown error with a throwing getter': {
        const error = new Error('an error with a bad getter');
        Object.defineProperty(error, 'detail', { enumerable: true, get: boom('detail') });
        throw error;
      }
      case 'thrown proxy': throw hostile();
      case 'throwing then getter': return { get then() { throw new Error('then getter throws'); } };
      case 'thenable answering many times':
        return {
          then(resolve, reject) {
            reject(new Error('first'));
            resolve('second');
            reject(new Error('third'));
            resolve('fourth');
            reject('fifth');
          },
        };
    }
  },
};
`;

/** How each bad value may settle: uncloneable results are GLEAN_NOT_CLONEABLE; odd throws a coded GleanError, or the plugin's own Error. */
function expectSettledAsBad(kind: BadKind, outcome: Outcome): void {
  expect(outcome, 'the call still pending').not.toBe('pending');
  expect(outcome, 'the call resolved').toHaveProperty('error');
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(Error);
  if (kind === 'throwing getter' || kind === 'throwing proxy') {
    expect(error).toBeInstanceOf(GleanError);
    expect((error as GleanError).code).toBe(ErrorCode.NOT_CLONEABLE);
  } else if (error instanceof GleanError) {
    expect(Object.values(ErrorCode)).toContain(error.code);
  } else if (kind === 'thenable answering many times') {
    // The first answer wins, as for a promise adopting a thenable.
    expect((error as Error).message).toBe('first');
  }
}

describe('a result or a thrown value that fights being copied', () => {
  it.each<BadKind>([
    'throwing getter',
    'throwing proxy',
    'thrown error with a throwing getter',
    'thrown proxy',
    'throwing then getter',
    'thenable answering many times',
  ])(
    "a %s: the call rejects with a coded error or the plugin's error; a call in flight beside it resolves, the worker is kept, and seven in a row do not fail the version",
    async (kind) => {
      const s = await faultySetup<BadApi>(BAD, { drainTimeoutMs: 500 });
      const thread = await s.faulty.threadId();
      // Its outcome is taken at once, so a rejection is never left unhandled whatever fails first.
      const beside = settledWithin(s.faulty.slow(300), 3000);

      expectSettledAsBad(kind, await settledWithin(s.faulty.give(kind), 2000));
      expect(await beside).toEqual({ value: thread });
      for (let i = 1; i < 7; i++) expectSettledAsBad(kind, await settledWithin(s.faulty.give(kind), 2000));

      expect(await settledWithin(s.faulty.threadId(), 2000)).toEqual({ value: thread });
      const status = s.glean.status()['Faulty']!;
      expect(status).toMatchObject({ state: 'ready', restarts: 0 });
      expect(status.threads.map((t) => t.threadId)).toEqual([thread]);
      expect(s.crashes).toEqual([]);
      expect(await s.healthy('still here')).toBe('still here');
      await expectThreadsBackAfterClose(s);
    },
  );
});

describe('an export that cannot be described, added on a version that already runs', () => {
  const PLUGIN = `
const boom = (what) => () => { throw new Error(what + ' throws'); };
export function good(value) { return 'good:' + value; }
export const hostileProxy = new Proxy({}, { get: boom('get'), ownKeys: boom('ownKeys'), getPrototypeOf: boom('getPrototypeOf'), getOwnPropertyDescriptor: boom('getOwnPropertyDescriptor'), has: boom('has') });
// A plain object, but looking up its methods walks a prototype that throws.
export const hostileMethods = Object.create(new Proxy({}, { ownKeys: boom('ownKeys'), getOwnPropertyDescriptor: boom('getOwnPropertyDescriptor'), getPrototypeOf: boom('getPrototypeOf') }));
`;

  it.each([
    ['a Proxy whose traps throw', 'hostileProxy'],
    ['an object whose method lookup throws', 'hostileMethods'],
  ])(
    '%s: reloadConfig() rejects with a coded GleanError, and the running id keeps serving from the same worker',
    async (_what, name) => {
      const good = { id: 'Good', file: 'plugin.mjs', name: 'good' };
      const { glean, temp, baseline } = await startGlean({
        files: { 'plugin.mjs': PLUGIN },
        config: [good],
        configName: 'glean.json',
        load: false,
      });
      const crashes = recordEvents(glean, 'crash');
      await glean.loadConfig();
      const handle = await glean.reloadAndWatch<(value: string) => string>('Good');
      expect(await handle('x')).toBe('good:x');
      const threads = glean.status()['Good']!.threads.map((t) => t.threadId);

      // Same file, same options: the running version is reused, and only describes the new export.
      await temp.write('glean.json', [good, { id: 'Bad', file: 'plugin.mjs', name }]);
      const outcome = await settledWithin(glean.reloadConfig(), 3000);
      expect(outcome, 'reloadConfig() still pending').not.toBe('pending');
      const error = (outcome as { error?: unknown }).error;
      expect(error).toBeInstanceOf(GleanError);
      expect(Object.values(ErrorCode)).toContain((error as GleanError).code);
      expect((error as GleanError).id).toBe('Bad');

      expect(await handle('y')).toBe('good:y');
      expect(Object.keys(glean.status())).toEqual(['Good']);
      expect(glean.status()['Good']).toMatchObject({ state: 'ready', restarts: 0 });
      expect(glean.status()['Good']!.threads.map((t) => t.threadId)).toEqual(threads);
      expect(crashes).toEqual([]);
      await glean.close();
      await threadsBackTo(baseline);
    },
  );
});

describe('an error named like a member of Object.prototype', () => {
  it.each(['hasOwnProperty', 'constructor', '__proto__', 'toString'])(
    'named %s reaches the caller as the plugin error it is, and the worker is kept',
    async (name) => {
      const { glean } = await startGlean({
        files: {
          'odd.mjs': `import { threadId } from 'node:worker_threads';
export const Odd = {
  threadId() { return threadId; },
  fail(name) { const error = new Error('odd'); Object.defineProperty(error, 'name', { value: name }); throw error; },
};
`,
        },
        config: [{ id: 'Odd', file: 'odd.mjs', name: 'Odd' }],
        configName: 'glean.json',
      });
      const odd = await glean.reloadAndWatch<{ threadId(): number; fail(name: string): never }>('Odd');
      const thread = await odd.threadId();

      const outcome = await settledWithin(odd.fail(name), 2000);
      expect(outcome).toMatchObject({ error: expect.any(Error) });
      const error = (outcome as { error: Error }).error;
      expect(error.name).toBe(name);
      expect(error.message).toBe('odd');
      expect(await odd.threadId()).toBe(thread);
      expect(glean.status()['Odd']?.restarts).toBe(0);
    },
  );
});
