/**
 * The child processes a plugin starts in this worker: tracked from their start, reported to the
 * host, and ended before the thread dies.
 *
 * Every asynchronous way `node:child_process` starts a process (`spawn`, `exec`, `execFile`, `fork`,
 * their promisified forms, whether the plugin imports the module as ES or CommonJS) makes a
 * `ChildProcess` and calls its `spawn` method: glean wraps that one method, before any plugin code
 * runs. The `*Sync` forms end before they return, and are left alone.
 *
 * Why the worker must end them itself: its children are children of the host's process, but only
 * this thread's event loop can reap them (libuv waits for a child only in the loop that started it).
 * A child that exits after the thread ended stays a zombie for the life of the host. So each ending
 * is covered where it can be (docs/architecture.md, "Child processes"):
 * - the host ends the children it was told of while the thread still runs (its loop reaps them);
 * - an uncaught exception with children alive is held until they are ended and reaped, then raised
 *   again as it was, so the worker crashes with the same error;
 * - `process.exit()` with children alive is held the same way: the JavaScript that called it is
 *   stopped there (nothing after the call runs), the children are ended and reaped, then the thread
 *   exits with the code asked for;
 * - Node's own termination (`worker.terminate()`, out of memory) runs no JavaScript: the host ends
 *   what is left (it interrupts a busy thread first, so its loop reaps), and the `exit` hook
 *   SIGKILLs children of a thread that exits anyway.
 *
 * `node:child_process` (and the `net`, `dgram` and socket modules it loads, about 2 ms of a thread's
 * start) is loaded only when plugin code asks for a module that starts processes, where glean's
 * module hooks see every `import` and `require` and where it resolves, through a package.json
 * `"imports"` mapping too (Node 22.15+, 24: {@link childProcessesAsked}), and
 * at the thread's start elsewhere. `process.getBuiltinModule`, which no hook sees, asks too.
 */
import type { ChildProcess } from 'node:child_process';
import {
  CHILD_GRACE_MS,
  CHILD_KILL_WAIT_MS,
  type ProcessIdentity,
  childrenOfTask,
  endProcesses,
  isRunning,
  readStat,
  signalAll,
  treeOf,
} from './proc.js';

const apply = Reflect.apply;
/** Node's own, taken before any plugin code runs. */
const getBuiltinModule = process.getBuiltinModule;

/**
 * The built-in modules through which plugin code can start a child process: `node:child_process`,
 * and `node:cluster` and `node:test`, which start theirs through it. Asking for one of them is what
 * loads it and installs the tracking, where the tracking is lazy. Matched against a specifier as
 * `process.getBuiltinModule` takes it, and against a resolved URL (load.ts).
 */
export const CHILD_PROCESS_MODULES: ReadonlySet<string> = new Set([
  'child_process',
  'node:child_process',
  'cluster',
  'node:cluster',
  'node:test',
]);

/** A child this worker started: its object, and its identity in /proc. */
interface Tracked {
  readonly child: ChildProcess;
  readonly identity: ProcessIdentity;
}

const children = new Set<Tracked>();
let installed = false;
/** Where the tracking waits for a module of {@link CHILD_PROCESS_MODULES}: the thread and the report, until then. */
let pending: { readonly tid: number; readonly report: (pid: number) => void } | undefined;
/** Set once `ChildProcess.prototype.spawn` is wrapped. */
let spawnWrapped = false;
/** Set when a module of {@link CHILD_PROCESS_MODULES} was asked for before the tracking was installed. */
let asked = false;
/** Set once an uncaught exception or an exit is held: the thread is going, and the hold is not taken twice. */
let crashing = false;

/**
 * Whether the thread is ending (an uncaught exception or `process.exit()` held while its children
 * end): it takes no new call, which the host rejects when the thread is gone, as if it had gone at once.
 */
export function threadEnding(): boolean {
  return crashing;
}

/** Whether the child's exit has been seen (and so it was reaped, by this thread's loop). */
const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** The children still to end: seen started, not seen exit, and still the process that started. */
function running(): Tracked[] {
  for (const tracked of children) if (exited(tracked.child)) children.delete(tracked);
  return [...children];
}

/**
 * Tracks every child process plugin code starts in this thread (OS thread id `tid`) from now on;
 * `report` gets each new child's pid (for the host, which ends it when this thread can no longer).
 * Once per thread; nothing without a thread id (no /proc to check a child against). `lazy`: this
 * thread's module hooks see every `import` and `require` and call {@link childProcessesAsked}, so
 * `node:child_process` is loaded only then (or when plugin code asks `process.getBuiltinModule`).
 */
export function trackChildProcesses(tid: number, report: (pid: number) => void, lazy = false): void {
  if (installed || tid === 0) return;
  installed = true;
  process.on('exit', killAtExit);
  const exit = process.exit;
  process.exit = function exitAfterChildren(code?: number | string | null) {
    if (crashing || running().length === 0) return apply(exit, process, [code]) as never;
    crashing = true;
    void endChildProcesses().finally(() => apply(exit, process, [code]));
    stopCaller();
    // The inspector could not stop the caller: exit now, and leave the children to the exit hook and the host.
    return apply(exit, process, [code]) as never;
  } as typeof process.exit;
  if (!lazy || asked) {
    wrapSpawn(tid, report);
    return;
  }
  pending = { tid, report };
  process.getBuiltinModule = function getBuiltinModuleTracked(id: string) {
    if (typeof id === 'string' && (CHILD_PROCESS_MODULES.has(id) || CHILD_PROCESS_MODULES.has(`node:${id}`)))
      childProcessesAsked();
    return apply(getBuiltinModule, process, [id]);
  } as typeof process.getBuiltinModule;
}

/**
 * A module of {@link CHILD_PROCESS_MODULES} is about to load in this thread (told by the module
 * hooks, before the importer gets it): the tracking is installed now, if it waited for that.
 */
export function childProcessesAsked(): void {
  asked = true;
  if (pending === undefined) return;
  const { tid, report } = pending;
  pending = undefined;
  wrapSpawn(tid, report);
}

/** Wraps `ChildProcess.prototype.spawn`, once: from now on each child this thread starts is tracked and reported. */
function wrapSpawn(tid: number, report: (pid: number) => void): void {
  if (spawnWrapped) return;
  spawnWrapped = true;
  const { ChildProcess: childProcess } = apply(getBuiltinModule, process, ['node:child_process']) as {
    ChildProcess: typeof ChildProcess;
  };
  // Node's own method, not in its types: every asynchronous start of a child process goes through it.
  const prototype = childProcess.prototype as ChildProcess & { spawn: (...args: unknown[]) => unknown };
  const spawn = prototype.spawn;
  prototype.spawn = function spawnTracked(this: ChildProcess, ...args: unknown[]) {
    const result: unknown = apply(spawn, this, args);
    // What /proc says, not what the object says: plugin code can make `pid` name any process. A child
    // this thread just started is listed as its child until this thread's loop reaps it.
    const pid: unknown = this.pid;
    const stat = typeof pid === 'number' ? readStat(pid) : undefined;
    if (stat !== undefined && stat.ppid === process.pid && childrenOfTask(process.pid, tid)?.includes(stat.pid)) {
      const tracked: Tracked = { child: this, identity: { pid: stat.pid, startTime: stat.startTime } };
      children.add(tracked);
      this.once('exit', () => {
        children.delete(tracked);
        if (children.size === 0) process.off('uncaughtException', holdCrash);
      });
      if (!crashing && !process.listeners('uncaughtException').includes(holdCrash))
        process.on('uncaughtException', holdCrash);
      try {
        report(stat.pid);
      } catch {
        // The host's port is closed (the thread is ending): the exit hook below still ends this child.
      }
    }
    return result;
  };
}

/**
 * Stops the JavaScript running now, as `process.exit()` does, and lets the event loop go on: the
 * inspector's `Runtime.terminateExecution` from a session of this thread's own, then a wait that
 * the termination ends. Returns only when that did not work (no inspector), within 1 s.
 */
function stopCaller(): void {
  try {
    // Loaded here, not at the thread's start: only a process.exit() with children alive needs it.
    const { Session } = apply(getBuiltinModule, process, ['node:inspector']) as typeof import('node:inspector');
    const session = new Session();
    session.connect();
    session.post('Runtime.terminateExecution');
  } catch {
    return;
  }
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline) {
    // Ended by the termination just asked for.
  }
}

/**
 * Ends every child this thread started and still runs: SIGTERM, SIGKILL after `graceMs`, and waits
 * for their exit, which this thread's loop reaps. Children of theirs are signalled with them.
 */
export async function endChildProcesses(graceMs = CHILD_GRACE_MS): Promise<void> {
  const targets = running().filter((tracked) => isRunning(tracked.identity));
  if (targets.length === 0) return;
  const exits = targets.map(({ child }) =>
    exited(child) ? undefined : new Promise<void>((resolve) => child.once('exit', () => resolve())),
  );
  await endProcesses(
    targets.map((tracked) => tracked.identity),
    graceMs,
    CHILD_KILL_WAIT_MS,
  );
  // Ended is not yet reaped: the loop reaps a child as it reports its exit.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(exits), new Promise((resolve) => (timer = setTimeout(resolve, CHILD_KILL_WAIT_MS)))]);
  clearTimeout(timer);
}

/**
 * An exception nothing in the plugin catches, with children alive: Node would end the thread now,
 * and children that exit after it would stay zombies. Held while they are ended (their exits reaped
 * by this thread's loop), then raised again from a timer, as it came: the worker crashes with the
 * same error. Listening only while children run, and only as the sole listener: a plugin that
 * listens itself keeps its thread alive, as without glean.
 */
function holdCrash(error: unknown, origin: string): void {
  if (process.listenerCount('uncaughtException') > 1) return;
  crashing = true;
  process.off('uncaughtException', holdCrash);
  void endChildProcesses().finally(() => {
    process.off('uncaughtException', holdCrash);
    // An unhandled rejection raised again as one, so Node words a non-Error reason as it did.
    if (origin === 'unhandledRejection') void Promise.reject(error);
    else
      setTimeout(() => {
        throw error;
      });
  });
}

/**
 * The thread is exiting (`process.exit()`, or an uncaught exception after glean's hold): no
 * asynchronous work runs any more. Children still running get SIGKILL, with their own children,
 * and a short synchronous wait for them to end; a loop turn still to come reaps them, and the host
 * ends whatever is left.
 */
function killAtExit(): void {
  const targets = treeOf(running().map((tracked) => tracked.identity));
  if (targets.length === 0) return;
  signalAll(targets, 'SIGKILL');
  const deadline = Date.now() + 200;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline && targets.some(isRunning)) Atomics.wait(nap, 0, 0, 2);
}
