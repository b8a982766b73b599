import {
  CHILD_GRACE_MS,
  CHILD_KILL_WAIT_MS,
  type ProcessIdentity,
  childrenOfTask,
  endProcesses,
  isRunning,
  isZombie,
  readStat,
} from '@glean/worker/proc';

/**
 * How many child processes of one worker the host keeps track of at a time. Reports beyond it are
 * not kept (the worker still ends those children itself when it can): a plugin that posts pids by
 * the million costs the host no memory.
 */
export const MAX_TRACKED_CHILDREN = 4096;

/** Every OS thread a slot claimed: one thread's children are that slot's alone. */
const claimedThreads = new Set<number>();

/**
 * The child processes one worker thread reported starting, as the host checked them: each one a
 * child of that very thread when reported (`/proc/<host>/task/<tid>/children`), named by pid and
 * start time. What a worker reports is untrusted: a pid that is not its thread's child is dropped,
 * so a plugin cannot make glean signal any other process; and a pid is signalled only while
 * `/proc` still shows the same process (same start time, parent the host), never a pid the kernel
 * gave to another since.
 */
export class ChildProcesses {
  /** The worker's OS thread, from the report glean's runtime posts before any plugin code runs. */
  #tid: number | undefined;
  readonly #known = new Map<number, ProcessIdentity>();
  /**
   * The thread's children as last read, kept for the rest of this turn of the host's loop: a burst of
   * reports (a plugin starting children in a loop) reads the children file once, not once per report.
   */
  #seen: Set<number> | undefined;

  /** Takes the worker's OS thread id: once, and only a thread of this process no other slot claimed. */
  claimThread(tid: number): void {
    if (this.#tid !== undefined || tid === process.pid || claimedThreads.has(tid)) return;
    // Its children file is what every later report is checked against.
    if (childrenOfTask(process.pid, tid) === undefined) return;
    this.#tid = tid;
    claimedThreads.add(tid);
  }

  /** The thread ended: its id may be given to another thread. */
  releaseThread(): void {
    if (this.#tid !== undefined) claimedThreads.delete(this.#tid);
  }

  /** The worker says it started child `pid`: kept if `/proc` agrees. */
  report(pid: number): void {
    if (this.#tid === undefined) return;
    // Pruned only when full: pruning reads /proc for every child known, and so did each report (1 s of the host's loop for 500).
    if (this.#known.size >= MAX_TRACKED_CHILDREN) this.#prune();
    if (this.#known.size >= MAX_TRACKED_CHILDREN || !this.#isChildOfThread(this.#tid, pid)) return;
    const stat = readStat(pid);
    if (stat === undefined || stat.ppid !== process.pid) return;
    this.#known.set(pid, { pid, startTime: stat.startTime });
  }

  /** Whether `pid` is listed in `/proc/<host>/task/<tid>/children`: as read this turn, or read again when it is not there. */
  #isChildOfThread(tid: number, pid: number): boolean {
    if (this.#seen?.has(pid) === true) return true;
    if (this.#seen === undefined) setImmediate(() => (this.#seen = undefined));
    this.#seen = new Set(childrenOfTask(process.pid, tid) ?? []);
    return this.#seen.has(pid);
  }

  /** Whether any child it was told of has not been reaped yet: running, or a zombie. */
  get any(): boolean {
    this.#prune();
    return this.#known.size > 0;
  }

  /** Children it was told of that have ended and wait to be reaped by their thread's event loop. */
  get zombies(): number {
    this.#prune();
    let count = 0;
    for (const child of this.#known.values()) if (isZombie(child)) count++;
    return count;
  }

  /**
   * Ends every child still running, with the processes below it: SIGTERM, then SIGKILL after
   * `graceMs`. Resolves once they have ended (zombies until their thread reaps them), or
   * {@link CHILD_KILL_WAIT_MS} after the SIGKILL.
   */
  async end(graceMs = CHILD_GRACE_MS): Promise<void> {
    const running = [...this.#known.values()].filter((child) => this.#isOurs(child) && isRunning(child));
    if (running.length > 0) await endProcesses(running, graceMs, CHILD_KILL_WAIT_MS);
  }

  /** Still the child it was reported as: same pid, same start, the host its parent. */
  #isOurs(child: ProcessIdentity): boolean {
    const stat = readStat(child.pid);
    return stat !== undefined && stat.startTime === child.startTime && stat.ppid === process.pid;
  }

  /** Forgets children that are gone: reaped, or their pid now another process's. */
  #prune(): void {
    for (const [pid, child] of this.#known) if (!this.#isOurs(child)) this.#known.delete(pid);
  }
}
