import type { ExportDescription } from '@glean/worker/protocol';
import type { PluginOptions } from './config.js';
import { ErrorCode, type GleanError } from './errors.js';
import type { CallOptions } from './call-options.js';
import { CallQueue, type QueuedCall } from './call-queue.js';
import type { CallTrace } from './channels.js';
import { CRASH_LIMIT, CRASH_WINDOW_MS, CrashPolicy } from './crash-policy.js';
import { type PluginRef, abortedError, forId, pluginError } from './plugin-ref.js';
import type { ModuleIntegrity } from './module-integrity.js';
import { ModuleGraph } from './modules/graph.js';
import type { ConfigReads } from './modules/shared-reads.js';
import { freezeSnapshot } from './snapshot.js';
import { Slot, stopSlots } from './slot.js';
import type { StreamOwner } from './stream.js';
import { threadEnv } from './thread.js';

/** The export a plugin's workers call as its cleanup when they end; never a handle's (see @glean/worker's cleanup.ts). */
export const DISPOSE_EXPORT = 'dispose';

/** How long after its last reference goes a version's drain starts: the switch and the first calls on the new version go first. */
export const RETIRE_DELAY_MS = 10;

/**
 * The life of a plugin version: loading → ready → draining → retired; `failed` after a crash loop;
 * `handing-over` while a drain-first change has ended its threads and its successor loads (it takes
 * no calls, they queue, and it may start again: see {@link PluginVersion.handOver}).
 */
export const VersionState = {
  LOADING: 'loading',
  READY: 'ready',
  HANDING_OVER: 'handing-over',
  DRAINING: 'draining',
  RETIRED: 'retired',
  FAILED: 'failed',
} as const;
export type VersionState = (typeof VersionState)[keyof typeof VersionState];

/** What makes a version: ids with equal keys share its workers. */
export interface VersionSpec extends PluginRef {
  readonly key: string;
  /** The id that asked for this version first, named in its load errors. */
  readonly id: string | undefined;
  readonly contentHash: string;
  readonly options: Readonly<PluginOptions>;
  /** The file's real path (symlinks followed), which the workers import. */
  readonly realFile: string;
  /** The file's bytes as read and checked: what the version runs, never the disk's later bytes. */
  readonly bytes: Uint8Array;
  /** The plugin root (absolute), which every plugin-owned module must be inside. */
  readonly root: string;
  /** The root's real path as a `file:` URL, no trailing slash. */
  readonly rootURL: string;
  /** What every module of the version is checked against before it runs (the plugin file already was). */
  readonly integrity: ModuleIntegrity;
  /** The reads of the generation that made it, which its graph shares while that generation runs (modules/shared-reads.ts). Default: from disk. */
  readonly reads?: ConfigReads | undefined;
}

/** A worker crash, as the version reports it. */
export interface VersionCrash {
  readonly version: PluginVersion;
  readonly threadId: number;
  readonly error: GleanError;
  /** `true` when the version gave up restarting (crash loop). */
  readonly failed: boolean;
  /** `true` when a replacement worker is starting; `false` when the version failed or was already replaced (draining). */
  readonly restarting: boolean;
  /** `true` when the worker was replaced for not answering after its caller aborted a call: not the plugin's crash, so counted towards no crash loop (nor a canary's crash streak). */
  readonly afterAbort?: boolean;
}

export interface VersionHooks {
  onCrash(crash: VersionCrash): void;
  onRetire(version: PluginVersion): void;
  /** The version loaded a module after its first load (a later dynamic import): what is watched should follow. */
  onGraphGrew(version: PluginVersion): void;
  /** Threads of this version that did not exit within EXIT_TIMEOUT_MS of being terminated: no longer waited for. */
  onStuck(version: PluginVersion, threadIds: readonly number[]): void;
  /** The plugin's cleanup failed in one worker as it ended (`GLEAN_DISPOSE_FAILED`); the worker ended anyway. */
  onDisposeFailed(version: PluginVersion, error: GleanError): void;
}

/** Per-thread numbers in `status()`. */
export interface ThreadStatus {
  readonly threadId: number;
  readonly inFlight: number;
  readonly ready: boolean;
}

/**
 * One plugin version: `threads` workers that all imported the same file,
 * the calls queued for them, and the version's drain and retirement.
 */
export class PluginVersion {
  readonly spec: VersionSpec;
  /** Every plugin-owned module this version runs, served to each of its workers (see modules/graph.ts). */
  readonly graph: ModuleGraph;
  readonly #hooks: VersionHooks;
  readonly #slots: Slot[] = [];
  /** Every slot whose thread has not exited yet, replaced ones too: what retirement must stop. */
  readonly #threads = new Set<Slot>();
  /** The variables every worker of this version gets as `process.env`, taken when the version is made. */
  readonly #env: Readonly<Record<string, string>>;
  readonly #descriptions = new Map<string, ExportDescription>();
  readonly #queue = new CallQueue(() => this.#checkDrained());
  readonly #crashes = new CrashPolicy();
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #state: VersionState = VersionState.LOADING;
  /** How many threads the version runs: `threads`, or fewer for a canary at a low weight until it {@link grow}s. */
  #target: number;
  #refs = 0;
  #retiring: Promise<void> | undefined;
  #destroyed: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  /** Retired while handing over (glean closed): its queued calls were waiting for a successor. */
  #wasHandingOver = false;
  restarts = 0;
  lastError: GleanError | undefined;

  /**
   * `spare`: threads started ahead of time with the same thread options, to adopt instead of starting new ones.
   * `threads`: how many to start, at most the options' `threads` (default); a canary starts fewer and {@link grow}s.
   */
  constructor(spec: VersionSpec, hooks: VersionHooks, spare?: readonly Slot[], threads = spec.options.threads) {
    this.spec = spec;
    this.#hooks = hooks;
    this.#target = Math.max(1, Math.min(threads, spec.options.threads));
    this.graph = new ModuleGraph({
      root: spec.root,
      rootURL: spec.rootURL,
      plugin: forId(spec, spec.id),
      entry: { realPath: spec.realFile, bytes: spec.bytes },
      integrity: spec.integrity,
      reads: spec.reads,
      onGrow: () => this.#hooks.onGraphGrew(this),
    });
    const { env } = spec.options;
    this.#env = env === 'inherit' ? threadEnv() : env === 'none' ? {} : env;
    for (const slot of spare ?? []) this.#slots.push(this.#adopt(slot));
  }

  get state(): VersionState {
    return this.#state;
  }

  /** Whether it serves calls now (state `ready`). */
  get ready(): boolean {
    return this.#state === VersionState.READY;
  }

  /** Ids and pinned handles that hold this version; it retires when they drop to zero. */
  get refs(): number {
    return this.#refs;
  }

  /** Starts every thread, imports the file and describes `names`. Rejects with a coded error and leaves no thread running if any of it fails. */
  async start(names: readonly string[]): Promise<void> {
    const { loadTimeoutMs } = this.spec.options;
    for (const name of names) this.#refuseReserved(name, this.spec.id);
    while (this.#slots.length < this.#target) this.#slots.push(this.#newSlot());
    try {
      const results = await Promise.all(this.#slots.map((slot) => slot.start(names, loadTimeoutMs)));
      for (const description of results[0] ?? [])
        this.#descriptions.set(description.name, freezeDescription(description));
      this.graph.seal();
      this.#state = VersionState.READY;
    } catch (error) {
      await this.#destroy();
      this.#state = VersionState.RETIRED;
      throw error;
    }
  }

  /** What export `name` is, once described. */
  description(name: string): ExportDescription | undefined {
    return this.#descriptions.get(name);
  }

  /** Describes one more export of the already imported module (an id added on a version that runs); `id` is named in errors. */
  async ensureExport(name: string, id = this.spec.id): Promise<ExportDescription> {
    this.#refuseReserved(name, id);
    const known = this.#descriptions.get(name);
    if (known !== undefined) return known;
    const slot = this.#slots.find((candidate) => candidate.ready);
    if (slot === undefined)
      throw pluginError(ErrorCode.UNAVAILABLE, forId(this.spec, id), `no worker is ready to describe "${name}"`);
    const description = freezeDescription(await slot.describe(name, this.spec.options.loadTimeoutMs, id));
    this.#descriptions.set(name, description);
    return description;
  }

  /** `dispose` is the plugin's cleanup, which glean calls as its workers end: no handle may call it. */
  #refuseReserved(name: string, id: string | undefined): void {
    if (name !== DISPOSE_EXPORT) return;
    throw pluginError(
      ErrorCode.RESERVED_EXPORT,
      forId(this.spec, id),
      `export "${name}" is the plugin's cleanup, which glean calls when a worker ends; it cannot be loaded as a handle: name another export`,
    );
  }

  ref(): void {
    this.#refs++;
  }

  /**
   * Drops a reference; the last one retires the version: it takes no new work at once, and its
   * threads are stopped {@link RETIRE_DELAY_MS} later, off the path of the switch that dropped it.
   */
  unref(): void {
    if (--this.#refs === 0) void this.retire(RETIRE_DELAY_MS);
  }

  /**
   * Calls export `name` (its method `member`, or itself when `null`) on the least busy ready worker,
   * or queues it for one. `id` names the plugin in errors; `trace`, a traced call's context, learns
   * the worker it is sent to. Rejects with a coded error, never hangs on a worker that dies.
   */
  call(
    id: string,
    name: string,
    member: string | null,
    args: readonly unknown[],
    options: CallOptions = {},
    streams?: StreamOwner,
    trace?: CallTrace,
  ): Promise<unknown> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? this.spec.options.timeoutMs;
    const slot = this.#pick();
    if (slot !== undefined) return slot.call(id, name, member, args, timeoutMs, signal, streams, trace);
    const plugin = forId(this.spec, id);
    if (this.#state === VersionState.FAILED) return Promise.reject(this.#unavailable(id));
    if (this.#state === VersionState.RETIRED)
      return Promise.reject(pluginError(ErrorCode.UNAVAILABLE, plugin, 'this version is retired'));
    if (signal?.aborted === true) return Promise.reject(abortedError(plugin, signal));
    const { maxQueue } = this.spec.options;
    if (this.#queue.length >= maxQueue) {
      return Promise.reject(
        pluginError(
          ErrorCode.QUEUE_FULL,
          plugin,
          `${this.#queue.length} calls already wait for a worker (maxQueue ${maxQueue})`,
        ),
      );
    }
    return this.#queue.push({
      id,
      name,
      member,
      args,
      timeoutMs,
      signal,
      streams,
      trace,
      timedOut: () =>
        pluginError(ErrorCode.TIMEOUT, plugin, `call timed out after ${timeoutMs} ms waiting for a worker`),
      aborted: () => abortedError(plugin, signal as AbortSignal),
    });
  }

  /** Calls not yet settled, queued or running, and streamed results not yet ended. */
  get inFlight(): number {
    let count = this.#queue.length;
    for (const slot of this.#slots) count += slot.unsettled + slot.streams;
    return count;
  }

  /** Ends every open stream of this version's workers with `error` (`close()`); each still counts until its worker returned its iterator. */
  endStreams(error: (id: string) => GleanError): void {
    for (const slot of this.#slots) slot.endStreams(error);
  }

  /**
   * Runs `count` threads (at most its `threads`) from now on: the missing ones start from the
   * version's own modules, as a crash's replacement does, and take calls once loaded. A canary grows
   * as its weight rises, and to all its threads when promoted. Never shrinks; only a ready version grows.
   */
  grow(count: number): void {
    const target = Math.min(count, this.spec.options.threads);
    if (target <= this.#target || this.#state !== VersionState.READY) return;
    this.#target = target;
    while (this.#slots.length < target) {
      const slot = this.#newSlot();
      this.#slots.push(slot);
      void this.#launch(slot);
    }
  }

  get threads(): ThreadStatus[] {
    return this.#slots
      .filter((slot) => slot.alive)
      .map((slot) => ({ threadId: slot.threadId, inFlight: slot.inFlight, ready: slot.ready }));
  }

  /**
   * The first half of a drain-first handover: the version stops taking calls (new ones wait in its
   * queue, bounded by `maxQueue` and each by its `timeoutMs`), lets the calls running finish (those
   * still running after `drainTimeoutMs` reject `GLEAN_DRAIN_TIMEOUT`), then ends every worker as
   * retirement does: the plugin's cleanup, then the threads. Its module graph and bytes stay: then
   * either {@link passQueued} hands the waiting calls to its successor and it retires, or
   * {@link resume} starts it again. Only for a ready version.
   */
  async handOver(): Promise<void> {
    if (this.#state !== VersionState.READY) return;
    this.#state = VersionState.HANDING_OVER;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    await this.#drainSlots(0);
    const stuck = await stopSlots([...this.#threads], 'its version hands over (drain-first)');
    if (stuck.length > 0) {
      this.#hooks.onStuck(this, stuck);
      for (const slot of [...this.#threads]) if (stuck.includes(slot.threadId)) this.#threads.delete(slot);
    }
    this.#slots.length = 0;
  }

  /**
   * A drain-first handover whose successor failed to load: starts `threads` workers again from this
   * version's own bytes (its module graph; nothing is read from disk) and serves the calls that
   * waited. Rejects with the coded error of a start that fails too; the version is then `failed`.
   */
  async resume(): Promise<void> {
    if (this.#state !== VersionState.HANDING_OVER) return;
    const { loadTimeoutMs } = this.spec.options;
    while (this.#slots.length < this.#target) this.#slots.push(this.#newSlot());
    try {
      await Promise.all(this.#slots.map((slot) => slot.start([], loadTimeoutMs)));
    } catch (error) {
      await stopSlots(this.#slots, 'load failed');
      this.lastError = error as GleanError;
      if (this.#state === VersionState.HANDING_OVER) this.#fail();
      throw error;
    }
    // Retired meanwhile (glean closed): its retirement stops the threads just started.
    if (this.#state !== VersionState.HANDING_OVER) return;
    this.#state = VersionState.READY;
    this.#onSettle();
  }

  /**
   * The second half of a drain-first handover that succeeded: every call waiting in this version's
   * queue goes, in order, to `next(id)` (the call's id's new version and export), keeping what is
   * left of its `timeoutMs` and its signal; a call whose id has none now rejects with `gone(id)`.
   */
  passQueued(
    next: (id: string) => { version: PluginVersion; name: string } | undefined,
    gone: (id: string) => GleanError,
  ): void {
    for (let queued = this.#queue.shift(); queued !== undefined; queued = this.#queue.shift()) {
      const target = next(queued.id);
      if (target === undefined) {
        queued.reject(gone(queued.id));
        continue;
      }
      pass(queued, target);
    }
  }

  /**
   * Takes no new work, lets calls already running finish, then terminates every thread. Calls still
   * running after `drainTimeoutMs` reject `GLEAN_DRAIN_TIMEOUT`. Idempotent: returns the same promise.
   * `delayMs` (default 0): wait this long, draining, before the drain is checked and the threads stopped.
   */
  retire(delayMs = 0): Promise<void> {
    this.#retiring ??= this.#drainAndDestroy(delayMs);
    return this.#retiring;
  }

  async #drainAndDestroy(delayMs: number): Promise<void> {
    this.#wasHandingOver = this.#state === VersionState.HANDING_OVER;
    if (this.#state !== VersionState.RETIRED) this.#state = VersionState.DRAINING;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    // Stopping threads costs the main thread and a CPU: let the new version's first calls go first.
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (!this.#slots.some((slot) => slot.alive)) this.#queue.rejectAll((id) => this.#neverRan(id));
    await this.#drainSlots(delayMs);
    await this.#destroy();
    this.#state = VersionState.RETIRED;
    this.#hooks.onRetire(this);
  }

  /**
   * Waits until no call is in flight (queued calls count, unless the version hands over: those wait
   * for its successor), at most `drainTimeoutMs` from `delayMs` ago; then the rest reject
   * `GLEAN_DRAIN_TIMEOUT`.
   */
  async #drainSlots(delayMs: number): Promise<void> {
    if (this.#draining === 0) return;
    const drained = new Promise<void>((resolve) => (this.#drained = resolve));
    let timer: NodeJS.Timeout | undefined;
    const { drainTimeoutMs } = this.spec.options;
    // Counted from the retirement, the delay included.
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(resolve, Math.max(0, drainTimeoutMs - delayMs), 'timeout')),
    );
    if ((await Promise.race([drained, timedOut])) === 'timeout') {
      const error = (id: string): GleanError =>
        pluginError(
          ErrorCode.DRAIN_TIMEOUT,
          forId(this.spec, id),
          `call still running ${drainTimeoutMs} ms after its version was replaced`,
        );
      if (this.#state !== VersionState.HANDING_OVER) this.#queue.rejectAll(error);
      for (const slot of this.#slots) slot.rejectAll(error);
    }
    clearTimeout(timer);
    this.#drained = undefined;
  }

  /** The calls a drain waits for: those on workers, and the queued ones unless they wait for a handover's end. */
  get #draining(): number {
    return this.#state === VersionState.HANDING_OVER ? this.inFlight - this.#queue.length : this.inFlight;
  }

  /**
   * Terminates every thread and the pool, waiting for them at most EXIT_TIMEOUT_MS; threads stuck
   * past that are reported (onStuck) and not waited for. Idempotent.
   */
  #destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      const stuck = await stopSlots([...this.#threads], 'its version was retired');
      if (stuck.length > 0) this.#hooks.onStuck(this, stuck);
    })();
    return this.#destroyed;
  }

  #pick(): Slot | undefined {
    if (this.#state !== VersionState.READY && this.#state !== VersionState.DRAINING) return undefined;
    const { concurrency } = this.spec.options;
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      // Unsettled, not in flight: a call that timed out but never returns must not hold a place for good.
      if (!slot.ready || slot.unsettled >= concurrency) continue;
      // Ties go to the slot with fewer calls it was sent and never answered (timed out or aborted):
      // one that may be stuck on them is being probed, and should not take the next call meanwhile.
      if (
        best === undefined ||
        slot.unsettled < best.unsettled ||
        (slot.unsettled === best.unsettled && slot.inFlight < best.inFlight)
      )
        best = slot;
    }
    return best;
  }

  #newSlot(): Slot {
    return this.#adopt(new Slot(this.spec.options, this.spec.rootURL));
  }

  #adopt(slot: Slot): Slot {
    slot.bind(
      forId(this.spec, this.spec.id),
      {
        onSettle: () => this.#onSettle(),
        onDeath: (dead, error) => this.#onDeath(dead, error),
        onDisposeFailed: (_slot, error) => {
          this.lastError = error;
          this.#hooks.onDisposeFailed(this, error);
        },
      },
      {
        file: this.spec.realFile,
        graph: this.graph,
        env: this.#env,
        disposeTimeoutMs: this.spec.options.disposeTimeoutMs,
      },
    );
    this.#threads.add(slot);
    void slot.exited.then(() => this.#threads.delete(slot));
    return slot;
  }

  #onSettle(): void {
    if (this.#queue.length === 0 && this.#drained === undefined) return;
    while (this.#queue.length > 0) {
      const slot = this.#pick();
      if (slot === undefined) break;
      const queued = this.#queue.shift();
      if (queued === undefined) break;
      slot
        .call(
          queued.id,
          queued.name,
          queued.member,
          queued.args,
          queued.remainingMs(),
          queued.signal,
          queued.streams,
          queued.trace,
        )
        .then(queued.resolve, queued.reject);
    }
    this.#checkDrained();
  }

  /** A retirement waiting for the drain learns when the last call settled. */
  #checkDrained(): void {
    if (this.#drained !== undefined && this.#draining === 0) this.#drained();
  }

  /** `loading`: a replacement died before it served (its load failed, or it was stopped while loading). */
  #onDeath(slot: Slot, error: GleanError, loading = false): void {
    this.lastError = error;
    // Handing over: its calls wait for the successor, or for its own resume().
    if (this.#state === VersionState.HANDING_OVER) return;
    if (this.#state !== VersionState.READY || !this.#slots.includes(slot)) {
      // Draining: no restart, so calls queued for a worker that is gone would wait for nothing.
      if (!this.#slots.some((other) => other.alive)) this.#queue.rejectAll((id) => this.#neverRan(id));
      this.#onSettle();
      // Still a crash of the plugin's, with its calls rejected: said, though nothing restarts.
      if (this.#state === VersionState.DRAINING && this.#slots.includes(slot) && !loading) {
        this.#hooks.onCrash({ version: this, threadId: slot.threadId, error, failed: false, restarting: false });
      }
      return;
    }
    if (slot.unresponsiveAfterAbort) {
      // Replaced for not answering after a caller gave up: not a crash of the plugin's, so not counted.
      this.#scheduleRestart(slot, 0);
      this.#hooks.onCrash({
        version: this,
        threadId: slot.threadId,
        error,
        failed: false,
        restarting: true,
        afterAbort: true,
      });
      return;
    }
    const decision = this.#crashes.crashed(Date.now());
    const { failed } = decision;
    if (decision.failed) this.#fail();
    else this.#scheduleRestart(slot, decision.delayMs);
    // Last, so a throwing listener cannot leave the version half-updated.
    this.#hooks.onCrash({ version: this, threadId: slot.threadId, error, failed, restarting: !failed });
  }

  #scheduleRestart(slot: Slot, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      void this.#restart(slot);
    }, delayMs);
    this.#restartTimers.add(timer);
  }

  /** Starts a replacement for a crashed slot. It runs this version's code: every module comes from the version's graph, none from disk. */
  async #restart(slot: Slot): Promise<void> {
    const index = this.#slots.indexOf(slot);
    if (this.#state !== VersionState.READY || index === -1) return;
    const replacement = this.#newSlot();
    this.#slots[index] = replacement;
    this.restarts++;
    await this.#launch(replacement);
  }

  /** Starts a thread added to the slots (a crash's replacement, or one more as the version grows); a failed start counts as a crash. */
  async #launch(replacement: Slot): Promise<void> {
    try {
      await replacement.start([], this.spec.options.loadTimeoutMs);
      this.#onSettle();
    } catch (failure) {
      // Its failure counts as the next crash. A thread stuck in its import is waited for EXIT_TIMEOUT_MS, then reported.
      const stuck = await stopSlots([replacement], 'load failed');
      if (stuck.length > 0) {
        this.#hooks.onStuck(this, stuck);
        // Reported once: retirement need not wait for it again.
        this.#threads.delete(replacement);
      }
      this.#onDeath(replacement, failure as GleanError, true);
    }
  }

  /** Crash loop: calls reject `GLEAN_UNAVAILABLE` until a change replaces this version. */
  #fail(): void {
    this.#state = VersionState.FAILED;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    this.#queue.rejectAll((id) => this.#unavailable(id));
    // Its idle threads would only cost memory: each runs a serve task until stopped.
    void this.#destroy();
  }

  /** For calls queued for a worker that died, when no worker will come back for them: they never ran, so a retry is safe. */
  #neverRan(id: string): GleanError {
    // Only close() retires a version while it hands over: the call is glean's closing, as any made after it.
    if (this.#wasHandingOver)
      return pluginError(
        ErrorCode.CLOSED,
        forId(this.spec, id),
        'glean closed while the call waited for a drain-first handover, before a version served it; the call never ran',
      );
    return pluginError(
      ErrorCode.PLUGIN_CRASHED,
      forId(this.spec, id),
      'the call waited for a worker that crashed, and this version takes no new worker (it is being replaced); the call never ran',
      { cause: this.lastError },
    );
  }

  #unavailable(id: string): GleanError {
    return pluginError(
      ErrorCode.UNAVAILABLE,
      forId(this.spec, id),
      `the version failed (its workers crashed more than ${CRASH_LIMIT} times in ${CRASH_WINDOW_MS / 1000} s); a config or plugin-file change replaces it`,
      { cause: this.lastError },
    );
  }
}

/** Value snapshots are shared by every handle of the version: frozen, so one reader cannot change what others see (see snapshot.ts). Method lists are made unique. */
function freezeDescription(description: ExportDescription): ExportDescription {
  if (description.kind === 'value') freezeSnapshot(description.value);
  // Each method once: the list came from the worker, where plugin code can patch what builds it, and a
  // proxy's ownKeys trap that returns a name twice throws in the host (Object.keys, spread, inspect).
  if (description.kind === 'object') return { ...description, methods: [...new Set(description.methods)] };
  return description;
}

/** A queued call of a version handed over goes to its successor, with what is left of its deadline, and its handle's streams. */
function pass(queued: QueuedCall, target: { version: PluginVersion; name: string }): void {
  target.version
    .call(
      queued.id,
      target.name,
      queued.member,
      queued.args,
      { timeoutMs: queued.remainingMs(), signal: queued.signal },
      queued.streams,
      queued.trace,
    )
    .then(queued.resolve, queued.reject);
}
