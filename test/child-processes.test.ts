/**
 * Child processes a plugin starts are ended and reaped when its worker ends: retired by a swap,
 * crashed, terminated for not answering, closed. Everything is measured on /proc, never through
 * glean: each child's command line carries a number unique to the test, so the test finds the
 * plugin's processes (and those below them, even once reparented), and every zombie child of this
 * process counts against it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { type CrashEvent, ErrorCode, type Handle, withOptions } from '@glean/core';
import { nextEvent, onCleanup, tempDir, until } from './helpers/index.js';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
  readonly startTime: number;
}

function stat(pid: number): Proc | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0]!, ppid: Number(fields[1]), startTime: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** Every process whose command line holds `mark`, from /proc. */
function marked(mark: string): Proc[] {
  const found: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(mark)) continue;
    const proc = stat(Number(name));
    if (proc !== undefined) found.push(proc);
  }
  return found;
}

/** Zombies a test proved are left (the out-of-memory death): not held against later tests. */
const knownZombies = new Set<number>();

/** Zombie children of this process, whichever of its threads started them. */
function zombieChildren(): Proc[] {
  return readdirSync('/proc/self/task')
    .flatMap((tid) => {
      try {
        return readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        return [];
      }
    })
    .map((pid) => stat(Number(pid)))
    .filter((proc): proc is Proc => proc?.state === 'Z' && !knownZombies.has(proc.pid));
}

/** Whether `proc` still exists as the same process (running, or a zombie). */
const remains = (proc: Proc): boolean => stat(proc.pid)?.startTime === proc.startTime;

/**
 * The processes a test's plugin starts: a mark unique to the test (a sleep of about ten days, to the
 * hundredth), what /proc showed of them, and checks that they are all gone, zombies included.
 */
function processWatch() {
  const base = String(800_000 + Math.floor(Math.random() * 100_000));
  const seen = new Map<number, Proc>();
  const watch = {
    /** The sleep duration whose command lines mark process `n`: `${base}.${n}`. */
    mark: (n: number): string => `${base}.${String(n).padStart(2, '0')}`,
    /** Waits until /proc shows `count` running processes with mark `n`; records them. */
    async started(n: number, count = 1): Promise<Proc[]> {
      let now: Proc[] = [];
      await until(
        () => {
          now = marked(watch.mark(n)).filter((proc) => proc.state !== 'Z');
          return now.length >= count;
        },
        `${count} process(es) marked ${watch.mark(n)}`,
      );
      for (const proc of now) seen.set(proc.pid, proc);
      return now;
    },
    /** Every process seen so far that still exists. */
    remaining: (): Proc[] => [...seen.values(), ...marked(base)].filter(remains),
    /** Waits until no marked process exists, running or zombie, and this process has no zombie child. */
    async allGone(what: string): Promise<void> {
      await until(
        () => watch.remaining().length === 0 && zombieChildren().length === 0,
        `${what}: no process of the plugin's left (left: ${JSON.stringify(watch.remaining())}, zombies: ${JSON.stringify(zombieChildren())})`,
      );
    },
  };
  // Whatever a failing test leaves is killed after it.
  onCleanup(() => {
    for (const proc of watch.remaining()) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {}
    }
  });
  return watch;
}

/** A plugin whose calls start child processes in every way node:child_process offers, and misbehave. */
const KIDS = (tag: string): string => `
import { spawn, exec, execFile, fork } from 'node:child_process';
import * as childProcess from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
const require = createRequire(import.meta.url);
const sh = (script) => spawn('sh', ['-c', script]);
const ways = {
  spawn: (mark) => spawn('sleep', [mark]),
  exec: (mark) => exec('sleep ' + mark),
  execFile: (mark) => execFile('sleep', [mark]),
  promisified: (mark) => { promisify(exec)('sleep ' + mark).catch(() => {}); },
  namespace: (mark) => childProcess.spawn('sleep', [mark]),
  require: (mark) => require('node:child_process').spawn('sleep', [mark]),
  fork: (mark) => fork(new URL('./idle.cjs', import.meta.url).pathname, [mark]),
  tree: (mark) => sh('sleep ' + mark + ' & wait'),
  ignoresTerm: (mark) => sh("trap '' TERM; sleep " + mark + ' & wait'),
};
export const Kids = {
  tag() { return ${JSON.stringify(tag)}; },
  start(way, mark) { ways[way](mark); return threadId; },
  startMany(way, mark, count) { for (let i = 0; i < count; i++) ways[way](mark); return threadId; },
  async startSlowly(way, mark, ms) { ways[way](mark); await new Promise((resolve) => setTimeout(resolve, ms)); return threadId; },
  busy() { for (;;) {} },
  throwLater() { setTimeout(() => { throw new Error('thrown in a timer'); }, 20); return 'scheduled'; },
  rejectLater() { setTimeout(() => { Promise.reject(new Error('rejected with no handler')); }, 20); return 'scheduled'; },
  exitNow(code) { process.exit(code); return 'went on after process.exit()'; },
  hog() { const kept = []; for (;;) kept.push(new Array(100_000).fill(Math.random())); },
};
`;

const IDLE = `setInterval(() => {}, 1 << 30);\n`;

interface KidsApi {
  tag(): string;
  start(way: string, mark: string): number;
  startMany(way: string, mark: string, count: number): number;
  startSlowly(way: string, mark: string, ms: number): Promise<number>;
  busy(): never;
  throwLater(): string;
  rejectLater(): string;
  exitNow(code: number): string;
  hog(): never;
}

async function kidsGlean(options: Record<string, unknown> = {}) {
  const temp = await tempDir();
  await temp.write('kids.mjs', KIDS('v0'));
  await temp.write('idle.cjs', IDLE);
  const started = await startGlean({ temp, config: [{ id: 'Kids', file: 'kids.mjs', name: 'Kids', ...options }] });
  const kids = await started.glean.reloadAndWatch<KidsApi>('Kids');
  return { ...started, kids };
}

/** Starts a child (mark 1) and a shell with a grandchild (mark 2), and waits until /proc shows all three. */
async function startSpawnAndTree(kids: Handle<KidsApi>, watch: ReturnType<typeof processWatch>): Promise<void> {
  await kids.start('spawn', watch.mark(1));
  await kids.start('tree', watch.mark(2));
  await watch.started(1);
  await watch.started(2, 2);
}

describe('child processes of a plugin', () => {
  it('are ended and reaped at each of 10 swaps, whichever way the plugin started them', async () => {
    const watch = processWatch();
    const { glean, temp, kids } = await kidsGlean();
    const ways = ['spawn', 'exec', 'execFile', 'promisified', 'namespace', 'require', 'fork', 'tree', 'spawn', 'exec'];
    for (const [n, way] of ways.entries()) {
      const running = await kids.tag();
      kids.start(way, watch.mark(n));
      const mine = await watch.started(n);
      await temp.write('kids.mjs', KIDS(`v${n + 1}`));
      await glean.reloadConfig();
      expect(await kids.tag()).not.toBe(running);
      await until(
        () => !mine.some(remains) && zombieChildren().length === 0,
        `the ${way} child of swap ${n} ended and reaped`,
      );
    }
    await watch.allGone('after 10 swaps');
  });

  it('and those below them are ended when the version retires (sh -c "sleep & wait")', async () => {
    const watch = processWatch();
    const { glean, temp, kids } = await kidsGlean();
    await kids.start('tree', watch.mark(1));
    // The shell and its sleep.
    await watch.started(1, 2);
    await temp.write('kids.mjs', KIDS('v1'));
    await glean.reloadConfig();
    await watch.allGone('after the swap');
  });

  it.each(['throwLater', 'rejectLater'] as const)(
    'are ended and reaped when the worker crashes (%s), and the crash is reported as before',
    async (fault) => {
      const watch = processWatch();
      const { glean, kids } = await kidsGlean();
      await startSpawnAndTree(kids, watch);
      const crashed = nextEvent<CrashEvent>(glean, 'crash');
      await kids[fault]();
      const event = await crashed;
      expect(event.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
      expect(event.error.message).toContain(fault === 'throwLater' ? 'thrown in a timer' : 'rejected with no handler');
      await watch.allGone('after the crash');
      // The replacement serves, and its own children end with it.
      await kids.start('spawn', watch.mark(3));
      await watch.started(3);
      await glean.close();
      await watch.allGone('after close()');
    },
  );

  it('are ended and reaped when plugin code calls process.exit() in a call, and the worker exits with its code', async () => {
    const watch = processWatch();
    const { glean, kids } = await kidsGlean();
    await startSpawnAndTree(kids, watch);
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    const error = await rejectionOf(kids.exitNow(3));
    expect(error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(error.exitCode).toBe(3);
    await crashed;
    await watch.allGone('after process.exit()');
  });

  it('are ended when the worker runs out of its resourceLimits heap; their zombies stay (a measured limit)', async () => {
    const watch = processWatch();
    const { glean, kids } = await kidsGlean({ resourceLimits: { maxOldGenerationSizeMb: 32 } });
    await kids.start('spawn', watch.mark(1));
    const [child] = await watch.started(1);
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    expect((await rejectionOf(kids.hog())).code).toBe(ErrorCode.PLUGIN_CRASHED);
    await crashed;
    // Ended by the host, once the thread that alone could reap it is gone: a zombie of this process.
    await until(() => stat(child!.pid)?.state === 'Z', 'the child ended');
    expect(stat(child!.pid)?.startTime).toBe(child!.startTime);
    knownZombies.add(child!.pid);
    // The rest of its version's children end and are reaped as ever.
    await kids.start('spawn', watch.mark(2));
    await watch.started(2);
    await glean.close();
    await until(() => !marked(watch.mark(2)).some(remains), 'the child of the replacement worker ended and reaped');
  });

  it('are ended and reaped when a worker busy for ever is terminated for not answering', async () => {
    const watch = processWatch();
    const { glean, kids } = await kidsGlean({ timeoutMs: 200 });
    await startSpawnAndTree(kids, watch);
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    expect((await rejectionOf(kids.busy())).code).toBe(ErrorCode.TIMEOUT);
    await crashed;
    await watch.allGone('after the busy worker was terminated');
    expect(await kids.tag()).toBe('v0');
  });

  it('are ended and reaped by close(), on every thread (threads: 2), while a call keeps one busy', async () => {
    const watch = processWatch();
    const { glean, kids } = await kidsGlean({ threads: 2, drainTimeoutMs: 300 });
    const threads = await Promise.all([
      kids.startSlowly('spawn', watch.mark(1), 300),
      kids.startSlowly('spawn', watch.mark(2), 300),
    ]);
    expect(new Set(threads).size).toBe(2);
    await watch.started(1);
    await watch.started(2);
    const busy = rejectionOf(kids.busy());
    await glean.close();
    expect((await busy).code).toBe(ErrorCode.DRAIN_TIMEOUT);
    await watch.allGone('after close()');
  });

  it("by the hundred keep the host's event loop turning while they are reported, and are all ended by close()", async () => {
    const watch = processWatch();
    const { glean, kids } = await kidsGlean();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    await kids.startMany('spawn', watch.mark(1), 500);
    await watch.started(1, 500);
    await glean.close();
    delay.disable();
    await watch.allGone('after close()');
    // Each report used to be checked against every child known before it: the loop stood still 4 s here
    // (10 s for 1000 children); 0.3 s at most now, most of it close() ending them.
    expect(delay.max / 1e6).toBeLessThan(1000);
  });

  it('that ignore SIGTERM get SIGKILL after the grace period, and are reaped', async () => {
    const watch = processWatch();
    const { glean, kids } = await kidsGlean();
    await kids.start('ignoresTerm', watch.mark(1));
    await watch.started(1, 2);
    await glean.close();
    await watch.allGone('after close()');
  });
});

/** A plugin that makes glean's runtime see a child with a pid of another process, and posts forged reports. */
const HOSTILE = `
import { ChildProcess } from 'node:child_process';
const hybridDispatch = Object.getOwnPropertySymbols(EventTarget.prototype).find((symbol) => symbol.description === 'nodejs.internal.kHybridDispatch');
let forged = 0;
export const Hostile = {
  forged() { return forged; },
  // A real spawn of 'true' through glean's tracking, on an object whose pid says another process.
  fakePid(pid) {
    const child = new ChildProcess();
    Object.defineProperty(child, 'pid', { get: () => pid, set() {} });
    child.spawn({ file: 'true', args: ['true'], stdio: 'ignore' });
    return true;
  },
  // The next control message that arrives shows the control port: post forged child reports on it.
  forgeReports(pid) {
    const dispatchEvent = EventTarget.prototype.dispatchEvent;
    const hybrid = hybridDispatch === undefined ? undefined : EventTarget.prototype[hybridDispatch];
    const forge = (port, data) => {
      if (Array.isArray(data) || data === null || typeof data !== 'object') return;
      EventTarget.prototype.dispatchEvent = dispatchEvent;
      if (hybrid !== undefined) EventTarget.prototype[hybridDispatch] = hybrid;
      port.postMessage({ type: 'thread', tid: process.pid });
      port.postMessage({ type: 'child', pid });
      forged++;
    };
    EventTarget.prototype.dispatchEvent = function (event) { forge(this, event?.data); return dispatchEvent.call(this, event); };
    if (hybrid !== undefined)
      EventTarget.prototype[hybridDispatch] = function (data, ...rest) { forge(this, data); return hybrid.call(this, data, ...rest); };
    return true;
  },
  slow(ms) { return new Promise((resolve) => setTimeout(resolve, ms, ms)); },
  later() { setTimeout(() => { throw new Error('crash'); }, 20); return true; },
};
`;

/**
 * A plugin that never imports node:child_process statically: it reaches it only when a call asks,
 * each way Node offers, so a thread whose tracking waits for the module (Node 22.15+, 24) installs
 * it at that moment. `loaded()` says whether the thread has node:child_process yet.
 */
const LATE = (tag: string): string => `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const ways = {
  getBuiltinModule: (mark) => process.getBuiltinModule('node:child_process').spawn('sleep', [mark]),
  getBuiltinModuleUnprefixed: (mark) => process.getBuiltinModule('child_process').spawn('sleep', [mark]),
  require: (mark) => require('child_process').spawn('sleep', [mark]),
  import: async (mark) => (await import('node:child_process')).spawn('sleep', [mark]),
  commonJSModule: (mark) => require('./spawner.cjs')(mark),
  // The plugin's package.json maps "#cp" to child_process: only the resolution names the module.
  packageImports: async (mark) => (await import('#cp')).spawn('sleep', [mark]),
};
export const Late = {
  tag() { return ${JSON.stringify(tag)}; },
  loaded() { return process.moduleLoadList.includes('NativeModule child_process'); },
  async start(way, mark) { await ways[way](mark); return true; },
};
`;

const SPAWNER = `module.exports = (mark) => require('node:child_process').spawn('sleep', [mark]);\n`;

describe('child processes of a plugin that loads node:child_process only in a call', () => {
  it('are ended and reaped at a swap, whichever way the call reached the module', async () => {
    const watch = processWatch();
    const temp = await tempDir();
    await temp.write('late.mjs', LATE('v0'));
    await temp.write('spawner.cjs', SPAWNER);
    await temp.write('package.json', JSON.stringify({ imports: { '#cp': 'child_process' } }));
    const { glean } = await startGlean({ temp, config: [{ id: 'Late', file: 'late.mjs', name: 'Late' }] });
    type Api = { tag(): string; loaded(): boolean; start(way: string, mark: string): Promise<boolean> };
    const late = await glean.reloadAndWatch<Api>('Late');
    // Where the module hooks run in the worker's own thread, nothing loads it before the plugin asks.
    const lazy = typeof ((await import('node:module')) as { registerHooks?: unknown }).registerHooks === 'function';
    const ways = [
      'getBuiltinModule',
      'getBuiltinModuleUnprefixed',
      'require',
      'import',
      'commonJSModule',
      'packageImports',
    ];
    for (const [n, way] of ways.entries()) {
      const running = await late.tag();
      expect(await late.loaded()).toBe(!lazy);
      expect(await late.start(way, watch.mark(n))).toBe(true);
      const mine = await watch.started(n);
      await temp.write('late.mjs', LATE(`v${n + 1}`));
      await glean.reloadConfig();
      expect(await late.tag()).not.toBe(running);
      await until(
        () => !mine.some(remains) && zombieChildren().length === 0,
        `the child started through ${way} at swap ${n} ended and reaped`,
      );
    }
    await watch.allGone(`after ${ways.length} swaps`);
  });
});

describe('a worker that reports processes that are not its children', () => {
  it('does not get them signalled, on close() or a crash', async () => {
    // A process of the test's own: a child of this process, but of its main thread, not of a worker.
    const own = spawn('sleep', ['600'], { stdio: 'ignore' });
    onCleanup(() => own.kill('SIGKILL'));
    const ownPid = own.pid!;
    const before = stat(ownPid)!;
    const parentBefore = stat(process.ppid)!;
    const temp = await tempDir();
    await temp.write('hostile.mjs', HOSTILE);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Hostile', file: 'hostile.mjs', name: 'Hostile' }],
    });
    type Api = {
      forged(): number;
      fakePid(pid: number): boolean;
      forgeReports(pid: number): boolean;
      slow(ms: number): Promise<number>;
      later(): boolean;
    };
    const hostile = await glean.reloadAndWatch<Api>('Hostile');
    expect(await hostile.fakePid(ownPid)).toBe(true);
    expect(await hostile.fakePid(process.ppid)).toBe(true);
    expect(await hostile.forgeReports(ownPid)).toBe(true);
    // A call that times out makes the host ping the worker: the ping arrives on the control port.
    expect((await rejectionOf(withOptions(hostile, { timeoutMs: 100 }).slow(2000))).code).toBe(ErrorCode.TIMEOUT);
    await until(async () => (await hostile.forged()) === 1, 'the forged reports posted on the control port');
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    await hostile.later();
    await crashed;
    await glean.close();
    for (const [pid, then] of [
      [ownPid, before],
      [process.ppid, parentBefore],
    ] as const) {
      const now = stat(pid);
      expect(now?.startTime).toBe(then.startTime);
      expect(now?.state).not.toBe('Z');
    }
    expect(own.exitCode).toBeNull();
    expect(own.signalCode).toBeNull();
  });
});
