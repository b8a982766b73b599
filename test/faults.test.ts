/**
 * The fault matrix beyond crash.test.ts and timeout.test.ts: non-Error throws and rejections,
 * process.exit between calls, values that cannot cross a thread, a worker dying while its version
 * loads or drains, and a crash loop brought back by a change. For each fault: the host survives,
 * every call settles with its result or the documented code, a healthy plugin in the same Glean
 * keeps answering throughout, the faulty version recovers as documented, and the OS thread count
 * is back where it was.
 */
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  GleanError,
  type GleanOptions,
  type CrashEvent,
  type ReloadEvent,
  type RetireEvent,
} from '@glean/core';
import { CRASH_LIMIT } from '@glean/core/limits';
import { nextEvent, onCleanup, threadsBackTo, until } from './helpers/index.js';
import {
  expectThreadsBackAfterClose,
  failOnHostUnhandledRejections,
  faultySetup,
  recordEvents,
  type FaultySetup,
} from './helpers/faults.js';
import { rejectionOf, stable } from './helpers/errors.js';

failOnHostUnhandledRejections();

type Thrown = 'undefined' | 'object' | 'null' | 'number' | 'symbol' | 'function' | 'error';

interface FaultyApi {
  threadId(): number;
  /** Calls this worker has received since it started. */
  received(): number;
  echo<T>(value: T): T;
  throwValue(what: Thrown): never;
  rejectValue(what: Thrown): Promise<never>;
  exitLater(code: number, ms: number): string;
  give(what: 'function' | 'symbol'): unknown;
  held(gate: string, exitGate: string): Promise<number>;
  exit(code: number): never;
}

const FAULTY = `
import { existsSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
let received = 0;
class QuotaError extends Error {
  name = 'QuotaError';
  constructor(message) { super(message); this.code = 'E_QUOTA'; this.limit = 10; }
}
const values = {
  undefined: () => undefined,
  object: () => ({ code: 'E_PLAIN', detail: { n: 1 } }),
  null: () => null,
  number: () => 42,
  symbol: () => Symbol('thrown'),
  function: () => function boom() {},
  error: () => new QuotaError('over quota'),
};
export const Faulty = {
  threadId() { received++; return threadId; },
  received() { return ++received; },
  echo(value) { received++; return value; },
  throwValue(what) { received++; throw values[what](); },
  async rejectValue(what) { received++; await new Promise((resolve) => setTimeout(resolve, 1)); throw values[what](); },
  exitLater(code, ms) { received++; setTimeout(() => process.exit(code), ms); return 'scheduled'; },
  give(what) {
    received++;
    return what === 'function' ? { ok: true, nested: { callback() {} } } : { list: [1, Symbol('kept')] };
  },
  held(gate, exitGate) {
    received++;
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        if (existsSync(exitGate)) process.exit(9);
        if (existsSync(gate)) { clearInterval(timer); resolve(threadId); }
      }, 5);
    });
  },
  exit(code) { process.exit(code); },
};
`;

type Setup = FaultySetup<FaultyApi>;

/** A Glean serving the faulty plugin (with `options`) and a healthy one, each in a worker of its own. */
const setup = (options: Record<string, unknown> = {}, gleanOptions: GleanOptions = {}): Promise<Setup> =>
  faultySetup<FaultyApi>(FAULTY, options, gleanOptions);

/**
 * Calls the healthy plugin every few milliseconds until stopped, so a fault elsewhere is seen to
 * leave it answering throughout. `stop()` first waits for 3 more answers (the fault has happened by
 * then), then resolves once every call settled, checking each answer; it returns how many answered.
 * Stopped after the test whatever happened, before its Glean closes.
 */
function healthyTraffic(healthy: Setup['healthy']): { stop(): Promise<number> } {
  const calls: Promise<void>[] = [];
  let answered = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      calls.push(
        healthy(`h${i}`).then((value) => {
          expect(value).toBe(`h${i}`);
          answered++;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 5)); // pacing the calls, not waiting for a state
    }
  })();
  const end = async (): Promise<void> => {
    running = false;
    await loop;
  };
  onCleanup(async () => {
    await end();
    await Promise.allSettled(calls);
  });
  return {
    async stop() {
      const before = answered;
      await until(() => answered >= before + 3, 'the healthy plugin to answer 3 more calls after the fault');
      await end();
      await Promise.all(calls);
      return answered;
    },
  };
}

describe('a plugin that throws or rejects with something that is not an Error', () => {
  const cases: [string, Thrown, unknown, string][] = [
    ['undefined', 'undefined', undefined, 'undefined'],
    ['a plain object', 'object', { code: 'E_PLAIN', detail: { n: 1 } }, '{"code":"E_PLAIN","detail":{"n":1}}'],
    ['null', 'null', null, 'null'],
    ['a number', 'number', 42, '42'],
    // Neither can be copied to the host: the message describes it, `thrown` stays undefined.
    ['a symbol', 'symbol', undefined, 'Symbol(thrown)'],
    ['a function', 'function', undefined, 'function boom'],
  ];

  for (const how of ['throwValue', 'rejectValue'] as const) {
    it.each(cases)(
      `${how === 'throwValue' ? 'throws' : 'rejects with'} %s: GLEAN_PLUGIN_THREW carrying it, and the same worker serves on`,
      async (_what, what, thrown, shown) => {
        const s = await setup();
        const thread = await s.faulty.threadId();
        const traffic = healthyTraffic(s.healthy);

        const error = await rejectionOf(s.faulty[how](what), Error);
        expect(error).toBeInstanceOf(GleanError);
        expect(error.code).toBe(ErrorCode.PLUGIN_THREW);
        expect(error.id).toBe('Faulty');
        expect(error.file).toBe(s.temp.path('faulty.mjs'));
        expect(error.thrown).toEqual(thrown);
        expect(stable(error, s.temp.dir)).toBe(`plugin "Faulty" (<dir>/faulty.mjs) threw a non-Error value: ${shown}`);

        // A throw is the plugin's answer, not a crash: same worker, no restart, no crash event.
        expect(await s.faulty.threadId()).toBe(thread);
        expect(await traffic.stop()).toBeGreaterThan(0);
        const status = s.glean.status()['Faulty']!;
        expect(status).toMatchObject({ state: 'ready', restarts: 0, errors: 1 });
        expect(status.lastError).toBe(error);
        expect(s.crashes).toEqual([]);
        await threadsBackTo(s.serving);
        await expectThreadsBackAfterClose(s);
      },
    );
  }

  it('rejects with an Error carrying a code: the caller gets that error, and the same worker serves on', async () => {
    const s = await setup();
    const thread = await s.faulty.threadId();
    const error = await rejectionOf(s.faulty.rejectValue('error'), Error);
    expect(error).not.toBeInstanceOf(GleanError);
    expect(error).toMatchObject({ name: 'QuotaError', message: 'over quota', code: 'E_QUOTA', limit: 10 });
    expect(await s.faulty.threadId()).toBe(thread);
    expect(await s.healthy('still here')).toBe('still here');
    expect(s.crashes).toEqual([]);
    await expectThreadsBackAfterClose(s);
  });
});

describe('a worker that calls process.exit between calls', () => {
  it.each([0, 1])(
    'after process.exit(%i) from a timer: a crash event with the exit code, calls in flight settle, a new worker serves',
    async (code) => {
      const s = await setup();
      const thread = await s.faulty.threadId();
      const crashed = nextEvent<CrashEvent>(s.glean, 'crash');
      const traffic = healthyTraffic(s.healthy);

      expect(await s.faulty.exitLater(code, 30)).toBe('scheduled');
      // Keep calling the faulty plugin across its death: each call settles, answered or GLEAN_PLUGIN_CRASHED.
      const outcomes: Promise<string>[] = [];
      // Until the crash event, or its wait failed (which fails the test below): the loop never outlives it.
      let over = false;
      void crashed.then(
        () => (over = true),
        () => (over = true),
      );
      while (!over) {
        outcomes.push(
          s.faulty.threadId().then(
            (answeredBy) => `answered by ${answeredBy === thread ? 'old' : 'new'}`,
            (error: GleanError) => error.code,
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 2)); // pacing the calls, not waiting for a state
      }
      const event = await crashed;
      expect(event).toMatchObject({ ids: ['Faulty'], threadId: thread, failed: false, restarting: true });
      expect(event.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
      expect(event.error.exitCode).toBe(code);
      expect(event.error.message).toContain(`worker thread ${thread} crashed: exited with code ${code}`);

      const settled = await Promise.all(outcomes);
      expect(settled.length).toBeGreaterThan(0);
      expect(
        settled.filter(
          (outcome) =>
            outcome !== 'answered by old' && outcome !== 'answered by new' && outcome !== ErrorCode.PLUGIN_CRASHED,
        ),
      ).toEqual([]);

      const next = await s.faulty.threadId();
      expect(next).not.toBe(thread);
      expect(s.glean.status()['Faulty']).toMatchObject({
        state: 'ready',
        restarts: 1,
        threads: [{ threadId: next, inFlight: 0 }],
      });
      expect(s.crashes).toHaveLength(1);
      expect(await traffic.stop()).toBeGreaterThan(0);
      // The dead thread is gone; its replacement loads the bytes its restart checked through glean's
      // source hooks, which run in one hooks thread of their own.
      await threadsBackTo(s.serving + 1);
      await expectThreadsBackAfterClose(s);
    },
  );
});

describe('arguments and results that cannot be cloned', () => {
  it.each([
    [
      'a function',
      { user: 'ada', onDone: function onDone() {} },
      'args[0].onDone (function onDone) cannot be sent to the worker: a function cannot be copied to another thread',
    ],
    [
      'a symbol',
      { tags: ['a', Symbol('b')] },
      'args[0].tags[1] (Symbol(b)) cannot be sent to the worker: a symbol cannot be copied to another thread',
    ],
  ])(
    'an argument holding %s rejects GLEAN_NOT_CLONEABLE naming its path, before anything is sent',
    async (_what, argument, path) => {
      const s = await setup();
      const thread = await s.faulty.threadId();
      const receivedBefore = await s.faulty.received();

      const error = await rejectionOf(s.faulty.echo(argument), Error);
      expect(error).toBeInstanceOf(GleanError);
      expect(error.code).toBe(ErrorCode.NOT_CLONEABLE);
      expect(error).toMatchObject({ id: 'Faulty', file: s.temp.path('faulty.mjs') });
      expect(stable(error, s.temp.dir)).toBe(`plugin "Faulty" (<dir>/faulty.mjs): ${path}`);

      // The worker never saw the call (raised by postMessage on the host), and it is the same worker.
      expect(await s.faulty.received()).toBe(receivedBefore + 1);
      expect(await s.faulty.threadId()).toBe(thread);
      expect(await s.faulty.echo({ user: 'ada' })).toEqual({ user: 'ada' });
      expect(await s.healthy('still here')).toBe('still here');
      expect(s.crashes).toEqual([]);
      await expectThreadsBackAfterClose(s);
    },
  );

  it('names the argument position for a later argument too', async () => {
    const s = await setup();
    const echo = s.faulty.echo as unknown as (...args: unknown[]) => Promise<unknown>;
    const error = await rejectionOf(echo(1, 'two', [{ deep: { fn: () => 3 } }]), Error);
    expect(error.code).toBe(ErrorCode.NOT_CLONEABLE);
    expect(error.message).toContain('args[2][0].deep.fn (function fn)');
    await expectThreadsBackAfterClose(s);
  });

  it.each([
    ['a function', 'function', 'result.nested.callback (function callback)'],
    ['a symbol', 'symbol', 'result.list[1] (Symbol(kept))'],
  ] as const)(
    'a result holding %s rejects GLEAN_NOT_CLONEABLE naming its path, and the worker serves on',
    async (_what, what, path) => {
      const s = await setup();
      const thread = await s.faulty.threadId();

      const error = await rejectionOf(s.faulty.give(what), Error);
      expect(error).toBeInstanceOf(GleanError);
      expect(error.code).toBe(ErrorCode.NOT_CLONEABLE);
      expect(error).toMatchObject({ id: 'Faulty', file: s.temp.path('faulty.mjs') });
      expect(stable(error, s.temp.dir)).toMatch(
        new RegExp(
          `^plugin "Faulty" \\(<dir>/faulty\\.mjs\\): ${path.replace(/[()[\].]/g, '\\$&')} cannot be copied to the host: `,
        ),
      );

      expect(await s.faulty.threadId()).toBe(thread);
      expect(await s.healthy('still here')).toBe('still here');
      expect(s.glean.status()['Faulty']).toMatchObject({ state: 'ready', restarts: 0 });
      expect(s.crashes).toEqual([]);
      await expectThreadsBackAfterClose(s);
    },
  );
});

describe('a worker that dies while a new version loads', () => {
  it.each([
    ['exits during its import', 'process.exit(4);\nexport const Faulty = {};\n', 'exited with code 4'],
    [
      'exits from a timer while its top-level await is pending',
      'setTimeout(() => process.exit(5), 0);\nawait new Promise((resolve) => setTimeout(resolve, 5000));\nexport const Faulty = { threadId() { return -1; } };\n',
      'exited with code 5',
    ],
    [
      'throws an uncaught exception while its top-level await is pending',
      "setTimeout(() => { throw new Error('boom while loading'); }, 10);\nawait new Promise((resolve) => setTimeout(resolve, 5000));\nexport const Faulty = {};\n",
      'boom while loading',
    ],
  ])(
    'rejects the reload GLEAN_LOAD_FAILED when the new version %s; the old version serves on, with no crash event',
    async (_what, source, detail) => {
      const s = await setup({ threads: 2 });
      const threadsBefore = s.glean.status()['Faulty']!.threads.map((t) => t.threadId);
      const traffic = healthyTraffic(s.healthy);
      const errors = recordEvents(s.glean, 'error');

      await s.temp.write('faulty.mjs', source);
      const error = await rejectionOf(s.glean.reloadConfig(), Error);
      expect(error).toBeInstanceOf(GleanError);
      expect(error.code).toBe(ErrorCode.LOAD_FAILED);
      expect(error).toMatchObject({ id: 'Faulty', file: s.temp.path('faulty.mjs') });
      expect(error.message).toContain(detail);
      expect(errors).toEqual([error]);

      // The old version still answers, on the same threads, and nothing counted as a crash.
      expect(threadsBefore).toContain(await s.faulty.threadId());
      const status = s.glean.status()['Faulty']!;
      expect(status).toMatchObject({ state: 'ready', restarts: 0, lastError: error });
      expect(status.threads.map((t) => t.threadId)).toEqual(threadsBefore);
      expect(s.crashes).toEqual([]);
      expect(await traffic.stop()).toBeGreaterThan(0);
      await threadsBackTo(s.serving);
      await expectThreadsBackAfterClose(s);
    },
  );
});

describe('a worker that dies while its version drains after a swap', () => {
  it('rejects the call still running on it GLEAN_PLUGIN_CRASHED, does not restart it, retires the old version without waiting for drainTimeoutMs', async () => {
    // A drain timeout longer than the test's: the retirement below can only come from the worker's death.
    const s = await setup({ drainTimeoutMs: 600_000 });
    const oldThread = await s.faulty.threadId();
    const crashed = nextEvent<CrashEvent>(s.glean, 'crash');
    const retired = nextEvent<RetireEvent>(s.glean, 'retire');
    const reloaded = nextEvent<ReloadEvent>(s.glean, 'reload');
    const gate = s.temp.path('gate');
    const exitGate = s.temp.path('exit-gate');
    const running = rejectionOf(s.faulty.held(gate, exitGate), Error);
    await until(() => s.glean.status()['Faulty']!.inFlight === 1, 'the held call to run');

    await s.temp.write('faulty.mjs', `${FAULTY}\nexport const Version = 2;\n`);
    await s.glean.reloadConfig();
    const { from, to } = await reloaded;
    const newThread = await s.faulty.threadId();
    expect(newThread).not.toBe(oldThread);

    await s.temp.write('exit-gate', '');
    const error = await running;
    expect(error).toBeInstanceOf(GleanError);
    expect(error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(error.exitCode).toBe(9);
    expect(error.id).toBe('Faulty');
    // Reported as a crash of the old version that restarts nothing.
    expect(await crashed).toMatchObject({
      ids: [],
      version: from,
      threadId: oldThread,
      failed: false,
      restarting: false,
      error: { code: ErrorCode.PLUGIN_CRASHED },
    });

    // The draining version is retired (not restarted), without waiting out its drainTimeoutMs.
    expect((await retired).version).toEqual(from);
    // The exit gate stays: a new worker of the new version would exit on a held call, but gets none.
    expect(await s.faulty.threadId()).toBe(newThread);
    const status = s.glean.status()['Faulty']!;
    expect(status).toMatchObject({ state: 'ready', restarts: 0, threads: [{ threadId: newThread, inFlight: 0 }] });
    expect(s.glean.status()['Faulty']!.file).toBe(to.file);
    expect(await s.healthy('still here')).toBe('still here');
    await threadsBackTo(s.serving);
    await expectThreadsBackAfterClose(s);
  });
});

describe('a crash loop brought back by a change', () => {
  /** Crashes the faulty worker until the version turns failed; returns the codes seen. */
  async function crashUntilFailed(s: Setup): Promise<string[]> {
    const codes: string[] = [];
    for (let attempt = 0; attempt < CRASH_LIMIT + 3; attempt++) {
      const error = await rejectionOf(s.faulty.exit(1), Error);
      codes.push(error.code as string);
      if (error.code !== ErrorCode.PLUGIN_CRASHED) break;
    }
    return codes;
  }

  it('an edit of the plugin file, seen by the watcher, replaces the failed version', async () => {
    const s = await setup({}, { watch: true });
    const traffic = healthyTraffic(s.healthy);
    expect(await crashUntilFailed(s)).toEqual([
      ...Array(CRASH_LIMIT + 1).fill(ErrorCode.PLUGIN_CRASHED),
      ErrorCode.UNAVAILABLE,
    ]);
    expect(s.glean.status()['Faulty']).toMatchObject({ state: 'failed', threads: [] });
    expect((await rejectionOf(s.faulty.threadId(), Error)).code).toBe(ErrorCode.UNAVAILABLE);

    const reloaded = nextEvent<ReloadEvent>(s.glean, 'reload', (event) => event.id === 'Faulty');
    await s.temp.write('faulty.mjs', `${FAULTY}\nexport const Fixed = true;\n`);
    await reloaded;
    expect(s.glean.status()['Faulty']).toMatchObject({ state: 'ready', restarts: 0 });
    expect(typeof (await s.faulty.threadId())).toBe('number');
    expect(await traffic.stop()).toBeGreaterThan(0);
    await threadsBackTo(s.serving);
    await expectThreadsBackAfterClose(s);
  });

  it('a config change (the version text) replaces the failed version, on the same file', async () => {
    const s = await setup();
    expect((await crashUntilFailed(s)).at(-1)).toBe(ErrorCode.UNAVAILABLE);
    expect(s.crashes.at(-1)).toMatchObject({ failed: true, restarting: false });

    await s.temp.write('glean.json', [
      { id: 'Faulty', file: 'faulty.mjs', name: 'Faulty', version: '2' },
      { id: 'Healthy', file: 'healthy.mjs', name: 'echo' },
    ]);
    await s.glean.reloadConfig();
    expect(s.glean.status()['Faulty']).toMatchObject({ state: 'ready', version: '2', restarts: 0 });
    expect(await s.faulty.echo('back')).toBe('back');
    expect(await s.healthy('still here')).toBe('still here');
    await threadsBackTo(s.serving);
    await expectThreadsBackAfterClose(s);
  });
});
