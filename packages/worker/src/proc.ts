/**
 * Processes as Linux's `/proc` tells them, and how glean ends them: SIGTERM, a grace period, then
 * SIGKILL. Used on both sides of a worker: by the worker for the child processes its plugin started
 * (children.ts), and by the host for the ones a worker reported (@glean/core's child-processes.ts).
 * Nothing here trusts a pid alone: a process is named by its pid and its start time, read from
 * `/proc/<pid>/stat`, so a pid the kernel gave to another process since is never signalled.
 *
 * @module @glean/worker/proc
 */
import { readFileSync, readdirSync } from 'node:fs';

/**
 * How long a child process of a plugin has after SIGTERM before SIGKILL when its worker ends: 2 s,
 * for a child to flush and exit cleanly. Worker and host use this one constant (`@glean/core/limits`).
 */
export const CHILD_GRACE_MS = 2000;

/** How long glean waits for a child it sent SIGKILL to end: only one in uninterruptible sleep (`D`) takes long. */
export const CHILD_KILL_WAIT_MS = 1000;

/** One process, from the fields of `/proc/<pid>/stat` glean reads. */
export interface ProcStat {
  readonly pid: number;
  /** The process id of its parent (a thread group id: the host's pid for a child of any of its threads). */
  readonly ppid: number;
  /** `R`, `S`, `D`, … `Z` for a zombie (ended, not yet reaped by its parent), `X` dead. */
  readonly state: string;
  /** When it started, in clock ticks since boot: with the pid, what names one process for its whole life. */
  readonly startTime: number;
}

/** A process named by pid and start time. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
}

/** The text of one `/proc/<pid>/stat` as a {@link ProcStat}, or `undefined` when it is not one. Pure. */
export function parseStat(text: string): ProcStat | undefined {
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields 3 (state) onwards, after ") ": field n is at index n - 3.
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (
    !Number.isSafeInteger(pid) ||
    state === undefined ||
    state.length !== 1 ||
    !Number.isSafeInteger(ppid) ||
    !Number.isSafeInteger(startTime)
  )
    return undefined;
  return { pid, ppid, state, startTime };
}

/** What `/proc` says of process `pid` now; `undefined` when there is none (or no `/proc`). */
export function readStat(pid: number): ProcStat | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether `process` is still the one named, and has not ended (a zombie has ended: only its reaping is left). */
export function isRunning(process: ProcessIdentity): boolean {
  const stat = readStat(process.pid);
  return stat !== undefined && stat.startTime === process.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** Whether `process` is still the one named and a zombie: ended, waiting for its parent to reap it. */
export function isZombie(process: ProcessIdentity): boolean {
  const stat = readStat(process.pid);
  return stat !== undefined && stat.startTime === process.startTime && (stat.state === 'Z' || stat.state === 'X');
}

/** The child pids of thread `tid` of process `pid` (`/proc/<pid>/task/<tid>/children`); `undefined` when the kernel does not say. */
export function childrenOfTask(pid: number, tid: number): number[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    return text
      .split(' ')
      .filter((word) => word.trim() !== '')
      .map(Number);
  } catch {
    return undefined;
  }
}

/** The child pids of process `pid`, whichever of its threads started them. */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => childrenOfTask(pid, Number(tid)) ?? []);
}

/** The most processes one end signals: a fork bomb's tree is cut there, not walked for ever. */
export const MAX_TREE_PROCESSES = 4096;

/**
 * `roots` and every running process below them (their children, theirs…), found now: what one end
 * signals, so that `sh -c 'sleep 100 & wait'` loses its `sleep` too. Descendants that left their
 * parent before this walk (a daemon's double fork) are no longer below it, and are not found.
 */
export function treeOf(roots: readonly ProcessIdentity[]): ProcessIdentity[] {
  const found = new Map<number, ProcessIdentity>();
  const queue = roots.filter(isRunning);
  for (const root of queue) found.set(root.pid, root);
  for (let i = 0; i < queue.length && found.size < MAX_TREE_PROCESSES; i++) {
    for (const pid of childrenOf(queue[i]!.pid)) {
      const stat = readStat(pid);
      if (stat === undefined || found.has(pid) || stat.state === 'Z') continue;
      const child = { pid, startTime: stat.startTime };
      found.set(pid, child);
      queue.push(child);
    }
  }
  return [...found.values()];
}

/** Sends `signal` to each of `processes` still running as named; a process gone meanwhile is skipped. */
export function signalAll(processes: readonly ProcessIdentity[], signal: NodeJS.Signals): void {
  for (const target of processes) {
    if (!isRunning(target)) continue;
    try {
      process.kill(target.pid, signal);
    } catch {
      // Ended between the check and the signal (ESRCH): nothing left to do.
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ends `roots` and the processes below them: SIGTERM to all, then SIGKILL to those still running
 * after `graceMs`, then waits up to `killWaitMs` for those to end. Resolves with the processes still
 * running then (in uninterruptible sleep, or not signallable); ended ones may be zombies until their
 * parent reaps them. Processes started below them during the grace are found and signalled too.
 */
export async function endProcesses(
  roots: readonly ProcessIdentity[],
  graceMs: number,
  killWaitMs: number,
): Promise<ProcessIdentity[]> {
  let targets = treeOf(roots);
  if (targets.length === 0) return [];
  signalAll(targets, 'SIGTERM');
  const termDeadline = Date.now() + graceMs;
  while (Date.now() < termDeadline && targets.some(isRunning)) await sleep(10);
  // What started below them meanwhile (a shell's next command) ends with them.
  targets = treeOf(targets);
  signalAll(targets, 'SIGKILL');
  const killDeadline = Date.now() + killWaitMs;
  while (Date.now() < killDeadline && targets.some(isRunning)) await sleep(5);
  return targets.filter(isRunning);
}
