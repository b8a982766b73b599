import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { releaseProxy, wrap, type Endpoint, type Remote } from 'comlink';
import type { Piscina } from 'piscina';
import { PendingCalls, type PendingCall } from './pending-calls.js';
import { createThread, threadEnv, type ThreadOptions } from './thread.js';
import {
  checkWorkerMessage,
  describeThrown,
  describeValue,
  deserializeError,
  isDescribeResult,
  isDisposeResult,
  isLoadResult,
  isResult,
  carriesPort,
  checkChildReport,
  transferListOf,
  type CallMessage,
  type ControlApi,
  type ExportDescription,
  type ServeTask,
} from '@glean/worker/protocol';
import type { CallTrace } from './channels.js';
import type { StreamOwner } from './stream.js';
import { SlotStreams } from './slot-streams.js';
import { CHILD_KILL_WAIT_MS } from '@glean/worker/proc';
import { ChildProcesses } from './child-processes.js';
import { decodeValue, describeRefusal, encodeValue } from '@glean/worker/values';
import { ErrorCode, GleanError } from './errors.js';
import { interruptWorker } from './interrupt.js';
import type { ModuleGraph } from './modules/graph.js';
import { ModulePorts } from './modules/ports.js';
import { type PluginRef, abortedError, forId, pluginError } from './plugin-ref.js';
import {
  type EndVerb,
  callFailure,
  deathDetail,
  endError,
  failureToError,
  loadError,
  protocolBreach,
} from './worker-errors.js';

/**
 * The protocol this host speaks: the `PROTOCOL_VERSION` of the @glean/worker it was built with.
 * Written here, not imported: the constant imported at run time would be the installed worker's own,
 * and a worker of another version would always agree with itself.
 */
export const HOST_PROTOCOL = 10;

/**
 * How long a worker thread has to start (its serve task running, its hello said) before it counts as
 * failed. Apart from `loadTimeoutMs`, which is the plugin's import alone: a thread's start is Node's,
 * and slower on a loaded machine or a newer Node, whatever the plugin does.
 */
export const START_TIMEOUT_MS = 10_000;

/** How long a worker whose call timed out has to answer a ping before it counts as blocked and is terminated. */
export const LIVENESS_GRACE_MS = 1000;

/**
 * How long a terminated worker has to exit. A thread blocked in a system call (a synchronous read of
 * a pipe, `execSync`) cannot be stopped until the call returns; glean stops waiting for it after this
 * long and reports it. Node itself waits for every thread when the process exits, even on
 * `process.exit()`: such a process ends only once the call returns, or when it is killed.
 */
export const EXIT_TIMEOUT_MS = 1000;

/**
 * How long the host lets a worker's event loop reap its ended child processes before it takes the
 * loop for blocked and interrupts the JavaScript running there (interrupt.ts).
 */
export const REAP_WAIT_MS = 250;

/** What a worker imports: the file's real path, and the graph its modules come from. */
export interface SlotLoad {
  /** The plugin file's real path, as checked against the root. */
  readonly file: string;
  /** The version's modules, this file's first: the worker reads none of them from disk. */
  readonly graph: ModuleGraph | undefined;
  /** The worker's `process.env` while it serves; a thread started ahead of time gets it at load. Default: as the thread started. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** How long the plugin's cleanup may run when the worker ends (see {@link Slot.cleanUp}); default 5000; 0: none runs. */
  readonly disposeTimeoutMs?: number | undefined;
}

/** What a slot tells its version. */
export interface SlotHooks {
  /** A call settled (result, error, timeout or crash): the version may dispatch queued calls or finish draining. */
  onSettle(slot: Slot): void;
  /** The worker died without being asked to: every call on it has been rejected already. */
  onDeath(slot: Slot, error: GleanError): void;
  /** The plugin's cleanup in this worker threw, rejected or ran out of time: `GLEAN_DISPOSE_FAILED`. */
  onDisposeFailed?(slot: Slot, error: GleanError): void;
}

type SlotState = 'starting' | 'ready' | 'stopping' | 'dead';

/**
 * One worker thread of a plugin version: the piscina serve task that owns the thread, the call
 * port (hot path, glean's own protocol) and the control port (comlink). Every call in flight on a
 * slot settles: with its reply, its timeout, or a coded error when the worker dies.
 */
export class Slot {
  /** The pool of this one thread (see thread.ts); none when the thread could not start. */
  readonly #pool: Piscina | undefined;
  /** Who the slot serves, for messages: the id that asked for its version first is named in load errors. */
  #plugin: PluginRef = { id: undefined, file: '(not yet loaded)', version: '' };
  #hooks: SlotHooks = { onSettle() {}, onDeath() {} };
  #load: SlotLoad = { file: '', graph: undefined };
  readonly #modules: ModulePorts;
  readonly #hello: Promise<void>;
  #saidHello: () => void = () => {};
  readonly #abort = new AbortController();
  readonly #callPort: MessagePort;
  readonly #controlPort: MessagePort;
  readonly #control: Remote<ControlApi>;
  readonly #pending = new PendingCalls({
    onSettle: () => this.#hooks.onSettle(this),
    onTimeout: (_callId, call, timeoutMs) => this.#onTimeout(call, timeoutMs),
    onAbort: (_callId, call, signal) => this.#onAbort(call, signal),
  });
  readonly #ended: Promise<GleanError>;
  #exited: Promise<void>;
  #hasExited = false;
  /** Control calls waiting for an answer: rejected at once when the control port cannot carry one. */
  readonly #controlWaits = new Set<(error: GleanError) => void>();
  /** Streamed results the worker still has. */
  readonly #streams = new SlotStreams({
    pending: this.#pending,
    plugin: () => this.#plugin,
    misbehaved: (what) => void this.#misbehaved(what),
    post: (message) => {
      if (!this.alive) return;
      try {
        this.#callPort.postMessage(message);
      } catch {
        // The port closed with the worker: its end settles the stream.
      }
    },
    done: () => this.#hooks.onSettle(this),
    stalled: () => void this.#checkAlive('timed out'),
    unreadable: (id, error) => this.#unreadableEncoding(id, 'result', error),
  });
  /** Messages that arrived on the call port, readable or not: the worker numbers its posts the same way. */
  #received = 0;
  #nextId = 0;
  #state: SlotState = 'starting';
  /** The thread's id, known from the start; -1 when it could not start. */
  readonly #threadId: number;
  #greeted = false;
  /** Set when the worker's hello named another protocol. */
  #protocolMismatch: GleanError | undefined;
  /** Why the slot ended, once it has: control calls made after that fail with it at once. */
  #endError: GleanError | undefined;
  #exitCode: number | undefined;
  #endReason: string | undefined;
  #deathDetail = '';
  #probing = false;
  #stopRequested = false;
  #unresponsiveAfterAbort = false;
  #poolDestroyed = false;
  /** The plugin loaded in this worker: its cleanup is due when the worker ends. */
  #loaded = false;
  /** The worker's event loop did not answer a ping: nothing more is asked of it, its cleanup neither. */
  #unresponsive = false;
  #controlClosed = false;
  /**
   * Plugin code closed one of glean's ports of a worker that lives on (see #controlGone): what it did
   * (`closed its call port`), named in the cleanup's failure, and the error every control call fails with.
   */
  #portLost: { readonly what: string; readonly error: GleanError } | undefined;
  #cleanup: Promise<void> | undefined;
  /** The child processes the worker reported starting, as checked against /proc (child-processes.ts). */
  readonly #children = new ChildProcesses();
  #threadReported = false;

  /**
   * Starts a worker thread with these options, whose plugin-owned modules are those inside `root`
   * (the plugin root's real path as a `file:` URL); it takes a plugin with {@link Slot.bind} and
   * {@link Slot.start}. A thread that cannot start makes the slot end at once: its start() rejects
   * `GLEAN_LOAD_FAILED` with Node's reason (`ERR_WORKER_INIT_FAILED`).
   */
  constructor(options: Omit<ThreadOptions, 'threads'>, root: string) {
    this.#hello = new Promise((resolve) => (this.#saidHello = resolve));
    const calls = new MessageChannel();
    const control = new MessageChannel();
    this.#callPort = calls.port1;
    this.#controlPort = control.port1;
    this.#control = wrap<ControlApi>(control.port1 as unknown as Endpoint);
    this.#callPort.on('message', this.#onMessage);
    this.#callPort.on('messageerror', this.#onUnreadable);
    this.#callPort.on('close', () => this.#onPortClosed('call'));
    this.#controlPort.on('messageerror', () => this.#failControlWaits());
    // glean's control answers never carry ports (no comlink proxies): one that does moves a port of glean's.
    this.#controlPort.on('message', (data: unknown) => {
      if (carriesPort(data)) this.#misbehaved('sent a MessagePort on the control port');
      else this.#onChildReport(data);
    });
    this.#controlPort.on('close', () => {
      this.#controlClosed = true;
      this.#onPortClosed('control');
    });
    this.#modules = new ModulePorts((what) => this.#misbehaved(what));
    const task: ServeTask = { callPort: calls.port2, controlPort: control.port2, root, modules: this.#modules.task };
    let run: Promise<unknown>;
    let pool: Piscina | undefined;
    try {
      pool = createThread(options);
      // The pool's one thread exists and is free: run() hands it the task and starts no thread.
      run = pool.run(task, {
        transferList: [calls.port2, control.port2, ...this.#modules.transfer],
        signal: this.#abort.signal,
      });
    } catch (error) {
      // The thread could not start (or take its task): nothing of it may stay behind.
      void pool?.destroy();
      pool = undefined;
      run = Promise.reject(error);
    }
    this.#pool = pool;
    const worker = this.#pool?.threads[0];
    this.#threadId = worker?.threadId ?? -1;
    this.#exited =
      worker === undefined
        ? run.then(this.#markExited, this.#markExited)
        : new Promise((resolve) =>
            // The exit code for crash messages, and a promise that truly waits for the thread to end.
            worker.once('exit', (code) => {
              this.#exitCode = code;
              this.#markExited();
              resolve();
            }),
          );
    this.#ended = run.then(
      () => this.#onEnd(undefined),
      (error: unknown) => this.#onEnd(error),
    );
    void this.#exited.then(() => this.#children.releaseThread());
  }

  /** A child-process report on the control port (see ChildReport in the protocol); comlink's answers pass by. */
  #onChildReport(data: unknown): void {
    const report = checkChildReport(data);
    if (report === undefined) return;
    if (report === 'malformed') {
      this.#misbehaved(`sent a malformed child process report on the control port: ${describeValue(data)}`);
      return;
    }
    if (report.type === 'child') {
      this.#children.report(report.pid);
      return;
    }
    // glean's runtime posts it before any plugin code runs: a later one is plugin code's, and changes nothing.
    if (this.#threadReported) return;
    this.#threadReported = true;
    this.#children.claimThread(report.tid);
  }

  /**
   * Ends the child processes the worker's plugin started and that still run, while the thread is
   * alive, so that its own event loop reaps them: SIGTERM, SIGKILL after `CHILD_GRACE_MS`, then,
   * when the loop does not reap them within {@link REAP_WAIT_MS} (a call keeps it busy), the
   * JavaScript running there is interrupted so it turns. At once when the worker reported none.
   * Never rejects.
   */
  async endChildren(): Promise<void> {
    if (!this.#children.any) return;
    try {
      await this.#children.end();
      if (this.#children.zombies === 0 || this.#hasExited) return;
      if (await this.#reaped(REAP_WAIT_MS)) return;
      if (await interruptWorker(this.#threadId)) await this.#reaped(CHILD_KILL_WAIT_MS);
    } catch {
      // /proc or the inspector failed us: the thread still ends, and what it leaves is said in the docs.
    }
  }

  /** Waits up to `timeoutMs` for the thread's loop to reap its ended children; whether it did. */
  async #reaped(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#children.zombies > 0 && !this.#hasExited) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.#children.zombies === 0;
  }

  /** Stops the thread through its task's signal (piscina terminates it), once its children are ended. */
  #abortThread(reason: string): void {
    if (!this.#children.any) {
      this.#abort.abort(new Error(reason));
      return;
    }
    void this.endChildren().finally(() => this.#abort.abort(new Error(reason)));
  }

  /** Once: piscina's destroy() is not idempotent while a thread it terminated has not exited. */
  #destroyPool(): void {
    if (this.#poolDestroyed) return;
    this.#poolDestroyed = true;
    void this.#pool?.destroy();
  }

  #markExited = (): void => {
    this.#hasExited = true;
  };

  /** The worker's thread id; -1 for a thread that could not start. */
  get threadId(): number {
    return this.#threadId;
  }

  /** Calls sent to this worker that it has not answered yet, including ones that already timed out. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Calls not yet settled for their callers; what counts against `concurrency` and for least-busy dispatch. */
  get unsettled(): number {
    return this.#pending.unsettled;
  }

  /** Streamed results the worker still has: each counts as a call in flight for a drain until it ends. */
  get streams(): number {
    return this.#streams.size;
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  get alive(): boolean {
    return this.#state === 'starting' || this.#state === 'ready';
  }

  /** Resolves once the worker thread has exited (or never started). */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** The worker was replaced for not answering after a call on it was aborted: not a crash of the plugin's. */
  get unresponsiveAfterAbort(): boolean {
    return this.#unresponsiveAfterAbort;
  }

  /** Whether the worker thread has exited (or never started). */
  get hasExited(): boolean {
    return this.#hasExited;
  }

  /**
   * Says which plugin version this worker serves (for messages), whom to tell about calls settling
   * and death, and what it loads: the file, and the version's module graph that serves its modules.
   */
  bind(plugin: PluginRef, hooks: SlotHooks, load: SlotLoad): void {
    this.#plugin = plugin;
    this.#hooks = hooks;
    this.#load = load;
  }

  /**
   * Resolves once the thread runs glean's serve task, its module hooks registered: what a worker
   * started ahead of time waits for. Rejects if the worker dies first.
   */
  async warm(timeoutMs: number): Promise<void> {
    await this.#greeting(timeoutMs);
    // Always a round trip, hooks or not: the first message a thread receives on a port costs it
    // one-time setup, which a spare pays now rather than inside the next reload's load(). (It was
    // 30 ms of CPU on Node 24, loading undici for a MessageEvent, until the worker's control port
    // listened through `on`: guardedEndpoint in @glean/worker's entry.ts, bench/graph.mjs.)
    await this.#race(() => this.#control.prepare(), timeoutMs, `worker not ready within ${timeoutMs} ms`);
  }

  /**
   * Imports the plugin in this worker and describes `names` (in order). Rejects with a `GleanError`
   * (`GLEAN_LOAD_FAILED`, `GLEAN_SYMBOL_NOT_FOUND`, `GLEAN_NOT_CLONEABLE`) and terminates the worker
   * when the import fails, throws, crashes or is still pending after `loadTimeoutMs`.
   */
  async start(names: readonly string[], loadTimeoutMs: number): Promise<ExportDescription[]> {
    try {
      await this.#greeting(START_TIMEOUT_MS);
      const { file, graph, env = threadEnv() } = this.#load;
      if (graph === undefined) throw new Error('glean: a slot started with no module graph');
      // Its compile starts now, beside the load below; its format says where the worker finds the exports.
      const commonJS = (await graph.entryFormat()) === 'commonjs';
      this.#modules.serve(graph);
      const loaded = await this.#race(
        () => this.#control.load(file, commonJS, names, env),
        loadTimeoutMs,
        `import still pending after ${loadTimeoutMs} ms`,
      );
      if (!isLoadResult(loaded))
        throw this.#misbehaved(`answered load with a malformed message: ${describeValue(loaded)}`);
      if (!loaded.ok) throw failureToError(loaded.failure, this.#plugin);
      if (loaded.descriptions.length !== names.length)
        throw this.#misbehaved(`described ${loaded.descriptions.length} exports, asked for ${names.length}`);
      const descriptions = loaded.descriptions.map((answer) => {
        if (!answer.ok) throw failureToError(answer.failure, this.#plugin);
        return this.#decoded(answer.description, this.#plugin);
      });
      this.#loaded = true;
      if (this.#state === 'starting') this.#state = 'ready';
      return descriptions;
    } catch (error) {
      // Not stopped here: a version's failed start stops all its threads at once (stopSlots), and a lone
      // replacement is terminated by its version.
      this.expectEnd('load failed');
      // A module refused for being outside the root (or its integrity) says so, whatever the import made of it.
      const refusal = this.#modules.refusal ?? this.#load.graph?.entryFailure();
      if (refusal !== undefined) throw refusal;
      throw await this.#withSyntaxErrorPlace(loadError(this.#plugin, error, this.#deathDetail));
    }
  }

  /** A load failed on V8's `SyntaxError`, which names no file: the message gains the module and place it is in. */
  async #withSyntaxErrorPlace(error: GleanError): Promise<GleanError> {
    const cause = error.cause as { name?: unknown } | undefined;
    if (error.code !== ErrorCode.LOAD_FAILED || cause?.name !== 'SyntaxError') return error;
    const where = await this.#load.graph?.syntaxError().catch(() => undefined);
    if (where === undefined) return error;
    return new GleanError(error.code, `${error.message} (at ${where})`, {
      cause: error.cause,
      id: error.id,
      file: error.file,
      version: error.version,
    });
  }

  /** Looks up one more export in the already imported module, for the plugin `id` (named in errors). */
  async describe(name: string, timeoutMs: number, id = this.#plugin.id): Promise<ExportDescription> {
    const plugin = forId(this.#plugin, id);
    let answer: unknown;
    try {
      answer = await this.#race(
        () => this.#control.describe(name),
        timeoutMs,
        `describing export "${name}" took over ${timeoutMs} ms`,
      );
    } catch (error) {
      // Its deadline, without the plugin's name (the load wraps it): said here with it.
      if (error instanceof GleanError && error.code === ErrorCode.TIMEOUT)
        throw pluginError(ErrorCode.TIMEOUT, plugin, error.message);
      if (error instanceof GleanError) throw error;
      throw pluginError(ErrorCode.LOAD_FAILED, plugin, `cannot describe export "${name}": ${describeThrown(error)}`, {
        cause: error,
      });
    }
    if (!isDescribeResult(answer))
      throw this.#misbehaved(`answered describe with a malformed message: ${describeValue(answer)}`);
    if (!answer.ok) throw failureToError(answer.failure, plugin);
    if (answer.description.name !== name)
      throw this.#misbehaved(`described export "${answer.description.name}", asked for "${name}"`);
    return this.#decoded(answer.description, plugin);
  }

  /** A value export's snapshot as the worker encoded it (a URL, a Buffer…), rebuilt; `GLEAN_NOT_CLONEABLE` when it cannot be. */
  #decoded(description: ExportDescription, plugin: PluginRef): ExportDescription {
    if (description.kind !== 'value' || description.specials === undefined) return description;
    try {
      return { kind: 'value', name: description.name, value: decodeValue(description.value, description.specials) };
    } catch (error) {
      throw pluginError(
        ErrorCode.NOT_CLONEABLE,
        plugin,
        `export "${description.name}" is a value whose encoding the host cannot read: ${describeThrown(error)}`,
      );
    }
  }

  /**
   * Sends one call; `id` is the plugin id, for messages. Settles with the reply, or rejects with a
   * coded error: `timeoutMs` ran out (`GLEAN_TIMEOUT`), `signal` aborted (`GLEAN_ABORTED`), an
   * argument or the result cannot cross (`GLEAN_NOT_CLONEABLE`), the worker died. Never hangs on a
   * worker that dies or breaks the protocol. `trace` (a traced call's context) gets this thread's id once sent.
   */
  call(
    id: string,
    name: string,
    member: string | null,
    args: readonly unknown[],
    timeoutMs: number | undefined,
    signal?: AbortSignal,
    streams?: StreamOwner,
    trace?: CallTrace,
  ): Promise<unknown> {
    if (signal?.aborted === true) return Promise.reject(this.#aborted(id, signal));
    // What structured clone would change is encoded (a URL, a Buffer, an Error…) or refused with its place, before anything is sent.
    const encoding = encodeValue(args, 'args');
    if (encoding !== undefined && 'refused' in encoding)
      return Promise.reject(
        pluginError(
          ErrorCode.NOT_CLONEABLE,
          forId(this.#plugin, id),
          describeRefusal(encoding.refused, 'cannot be sent to the worker'),
        ),
      );
    const message: CallMessage =
      encoding === undefined
        ? [this.#nextId + 1, name, member, args]
        : [this.#nextId + 1, name, member, encoding.value as unknown[], encoding.specials];
    // Numbered only once posted: the worker counts what it receives, and names a call it could not read by that count.
    const callId = this.#nextId + 1;
    return new Promise((resolve, reject) => {
      // Listening before posting: a signal that throws here leaves nothing sent and nothing on the books.
      const pending = this.#pending.open(callId, id, resolve, reject, signal, streams);
      try {
        this.#callPort.postMessage(message, transferListOf(args));
      } catch (error) {
        this.#pending.unsent(pending);
        reject(
          pluginError(
            ErrorCode.NOT_CLONEABLE,
            forId(this.#plugin, id),
            `the arguments cannot be sent to the worker: ${describeThrown(error)}`,
            { cause: error },
          ),
        );
        return;
      }
      this.#nextId = callId;
      if (trace !== undefined) trace.threadId = this.#threadId;
      this.#pending.sent(callId, pending, timeoutMs);
    });
  }

  /**
   * Rejects every unsettled call with `error` (they may still run in the worker until it is
   * terminated). Used when a drain runs out of time.
   */
  rejectAll(error: (id: string) => GleanError): void {
    this.#pending.rejectAll(error);
    this.endStreams(error);
  }

  /** Ends every stream the worker still has with `error` (see SlotStreams.end); each still counts until the worker has returned its iterator. */
  endStreams(error: (id: string) => GleanError): void {
    this.#streams.end(error);
  }

  /**
   * Says the worker is about to be stopped from outside, so its end is no crash: calls still in flight will reject `GLEAN_PLUGIN_CRASHED` with `reason`.
   */
  expectEnd(reason: string): void {
    if (this.#state === 'dead' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    this.#endReason = reason;
  }

  /**
   * The first step of a worker's end (see {@link stopSlots}): the worker takes no more calls and runs
   * its plugin's cleanup (`dispose`, then `onDispose` functions), at most `disposeTimeoutMs`. Skipped
   * for a worker that never loaded the plugin, has ended, or whose event loop or control port is gone.
   * A throw or the timeout is reported (`onDisposeFailed`, `GLEAN_DISPOSE_FAILED`); never rejects.
   * Idempotent: returns the same promise.
   */
  cleanUp(reason: string): Promise<void> {
    this.expectEnd(reason);
    this.#cleanup ??= this.#runCleanup();
    return this.#cleanup;
  }

  /** `probe`: first make sure the worker still answers a ping within LIVENESS_GRACE_MS (after a breach, its control port may be what broke). */
  async #runCleanup(probe = false): Promise<void> {
    if (!this.#loaded || this.#unresponsive || this.#controlClosed || this.#endError !== undefined) return;
    if (probe) {
      try {
        await this.#race(() => this.#control.ping(), LIVENESS_GRACE_MS, 'no answer to a ping');
      } catch {
        return;
      }
    }
    const timeoutMs = this.#load.disposeTimeoutMs ?? 5000;
    // No time for a cleanup: none is asked for (a 0 ms race is lost by every worker, with or without a dispose).
    if (timeoutMs === 0) return;
    let failure: GleanError | undefined;
    try {
      const answer = await this.#race(
        () => this.#control.dispose(),
        timeoutMs,
        `the plugin's cleanup (dispose) was still running after disposeTimeoutMs ${timeoutMs} ms`,
      );
      if (!isDisposeResult(answer)) {
        failure = pluginError(
          ErrorCode.DISPOSE_FAILED,
          this.#plugin,
          `the worker answered dispose with a malformed message: ${describeValue(answer)}`,
        );
      } else if (!answer.ok) {
        const cause = deserializeError(answer.error);
        failure = pluginError(
          ErrorCode.DISPOSE_FAILED,
          this.#plugin,
          `the plugin's cleanup (dispose) failed in worker thread ${this.#threadId}: ${describeThrown(cause)}`,
          { cause },
        );
      }
    } catch (error) {
      // Its deadline, or the worker's end while it ran (the plugin's process.exit(), or a termination for not answering a ping).
      const timedOut = error instanceof GleanError && error.code === ErrorCode.TIMEOUT;
      const lost = this.#portLost;
      const exited =
        this.#exitCode !== undefined
          ? `exited with code ${this.#exitCode}`
          : lost !== undefined && error === lost.error
            ? lost.what
            : 'ended';
      failure = pluginError(
        ErrorCode.DISPOSE_FAILED,
        this.#plugin,
        timedOut
          ? `the plugin's cleanup (dispose) in worker thread ${this.#threadId} was still running after disposeTimeoutMs (${timeoutMs} ms); the worker was ended`
          : `worker thread ${this.#threadId} ${exited} during the plugin's cleanup (dispose)`,
        { cause: timedOut ? undefined : error },
      );
    }
    if (failure === undefined) return;
    try {
      this.#hooks.onDisposeFailed?.(this, failure);
    } catch {
      // A listener's throw must not hold the worker's end.
    }
  }

  /** Stops the worker now, booting or serving: calls still in flight reject `GLEAN_PLUGIN_CRASHED` with `reason`. Idempotent; resolves once the thread has exited. */
  async terminate(reason: string): Promise<void> {
    if (this.#state !== 'dead' && !this.#stopRequested) {
      this.#stopRequested = true;
      this.expectEnd(reason);
      // Its child processes, then its thread (stopSlots runs the plugin's cleanup before both).
      await this.endChildren();
      // Destroying the thread's pool terminates the thread and rejects its serve task.
      this.#destroyPool();
    }
    await this.#ended;
    await this.#exited;
  }

  #onMessage = (raw: unknown): void => {
    try {
      this.#take(raw);
    } catch (error) {
      // Nothing a worker sends may throw in the host: what could not be taken is a breach like any other.
      this.#misbehaved(`sent a message the host could not take (${describeThrown(error)})`);
    }
  };

  #take(raw: unknown): void {
    this.#received++;
    const message = checkWorkerMessage(raw);
    if (message === undefined) {
      this.#misbehaved(`sent a malformed message on the call port: ${describeValue(raw)}`);
      return;
    }
    if (isResult(message)) {
      const pending = this.#pending.take(message[0]);
      if (pending === undefined) {
        this.#misbehaved(`answered call ${message[0]}, which it was not sent or had answered`);
        return;
      }
      if (message.length === 2) {
        this.#pending.settle(pending, message[1], undefined);
        return;
      }
      let value: unknown;
      try {
        value = decodeValue(message[1], message[2]);
      } catch (error) {
        this.#pending.settle(pending, undefined, this.#unreadableEncoding(pending.id, 'result', error));
        return;
      }
      this.#pending.settle(pending, value, undefined);
      return;
    }
    if (message.type === 'hello') {
      // Only the serve task's first word counts: another hello is plugin code posting on glean's port.
      if (this.#greeted || this.#received !== 1) {
        this.#misbehaved(`said hello again (thread ${message.threadId})`);
        return;
      }
      if (message.threadId !== this.#threadId) {
        this.#misbehaved(`said hello as thread ${message.threadId}`);
        return;
      }
      this.#greeted = true;
      if (message.protocol !== HOST_PROTOCOL) this.#refuseProtocol(message.protocol);
      this.#saidHello();
      return;
    }
    if (message.type !== 'error') {
      this.#streams.take(message);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (pending === undefined) {
      this.#streams.failed(message);
      return;
    }
    // Built before the call leaves the books: if building it throws, the call is still there to reject.
    let failure: Error;
    try {
      const error = message.specials === undefined ? message.error : decodeValue(message.error, message.specials);
      failure = callFailure(error as typeof message.error, forId(this.#plugin, pending.id));
    } catch (error) {
      failure = this.#unreadableEncoding(pending.id, 'error', error);
    }
    this.#pending.take(message.id);
    this.#pending.settle(pending, undefined, failure);
  }

  /** An encoded result or error that cannot be rebuilt (only a worker whose plugin forged it sends one): that call fails alone. */
  #unreadableEncoding(id: string, what: 'result' | 'error', error: unknown): GleanError {
    return pluginError(
      ErrorCode.NOT_CLONEABLE,
      forId(this.#plugin, id),
      `the ${what} arrived encoded, and its encoding cannot be read on the host: ${describeThrown(error)}`,
    );
  }

  /**
   * A message arrived that this thread cannot read (structured clone refused it: nested deeper than
   * the main thread's stack allows, say). The worker says which call it answered, by its number.
   */
  #onUnreadable = (): void => {
    const seq = ++this.#received;
    void (async () => {
      let callId: unknown;
      try {
        callId = await this.#race(() => this.#control.replyAt(seq), LIVENESS_GRACE_MS, 'no answer to replyAt');
      } catch {
        callId = undefined;
      }
      const pending = typeof callId === 'number' ? this.#pending.get(callId) : undefined;
      if (pending === undefined) {
        if (this.alive)
          this.#misbehaved(
            `sent message ${seq} on the call port, which could not be read, and cannot say which call it answered`,
          );
        return;
      }
      this.#pending.take(callId as number);
      this.#pending.settle(
        pending,
        undefined,
        pluginError(
          ErrorCode.NOT_CLONEABLE,
          forId(this.#plugin, pending.id),
          'the result (or the error) was sent but cannot be read on the host (nested too deeply?)',
        ),
      );
    })();
  };

  /** Resolves once the worker said hello; rejects `GLEAN_PROTOCOL_MISMATCH` when it speaks another protocol. */
  async #greeting(timeoutMs: number): Promise<void> {
    await this.#race(() => this.#hello, timeoutMs, `worker did not start within ${timeoutMs} ms`);
    if (this.#protocolMismatch !== undefined) throw this.#protocolMismatch;
  }

  /** The worker speaks another protocol: nothing it says can be read as glean's. It is stopped, and its start fails. */
  #refuseProtocol(protocol: number): void {
    this.#protocolMismatch = pluginError(
      ErrorCode.PROTOCOL_MISMATCH,
      this.#plugin,
      `the worker runtime (@glean/worker) speaks protocol ${protocol}, the host (@glean/core) ${HOST_PROTOCOL}: install matching versions of both`,
    );
    void this.terminate('it speaks another protocol');
  }

  /** The control port could not carry an answer: the control calls waiting for one fail now rather than at their deadline. */
  #failControlWaits(): void {
    const error = pluginError(
      ErrorCode.NOT_CLONEABLE,
      this.#plugin,
      "the worker's answer cannot be read on the host (a value export nested too deeply?)",
    );
    for (const fail of [...this.#controlWaits]) fail(error);
  }

  /**
   * A port of this worker closed. When the worker dies its ports close too, and its death is reported
   * with its cause; a worker still alive a moment later closed it from plugin code.
   */
  #onPortClosed(which: 'call' | 'control'): void {
    // A worker being stopped can still close a port from plugin code (in its dispose, or a call it still
    // runs), or move one away, which its runtime answers by closing the other (closeTogether in
    // @glean/worker's entry.ts): its cleanup and its calls then wait for answers that cannot come, so
    // that is checked too.
    if (this.#endError !== undefined) return;
    let timer: NodeJS.Timeout | undefined;
    void Promise.race([this.#ended, new Promise((resolve) => (timer = setTimeout(resolve, LIVENESS_GRACE_MS)))]).then(
      () => {
        clearTimeout(timer);
        // Ended meanwhile: its end said why, and failed what waited.
        if (this.#endError !== undefined) return;
        const what = `closed its ${which} port`;
        if (this.alive) this.#misbehaved(what);
        else this.rejectAll((id) => protocolBreach(forId(this.#plugin, id), this.#threadId, what));
        this.#controlGone(what);
      },
    );
  }

  /**
   * Plugin code closed one of glean's ports (or moved it away, and the other closed) and the worker
   * lives on: no answer can be trusted to come, so the control calls waiting fail now (a cleanup
   * under way among them, which would wait out its `disposeTimeoutMs` and hold the calls still in
   * flight), and later ones at once.
   */
  #controlGone(what: string): void {
    if (this.#portLost !== undefined) return;
    const error = protocolBreach(this.#plugin, this.#threadId, what);
    this.#portLost = { what, error };
    for (const fail of [...this.#controlWaits]) fail(error);
  }

  /**
   * The worker broke glean's protocol: plugin code reached one of its ports. It is terminated, its
   * calls reject `GLEAN_PLUGIN_CRASHED` naming what it did, and its version replaces it as after a
   * crash. Returns the error for a caller that was waiting on it.
   */
  #misbehaved(what: string): GleanError {
    const error = protocolBreach(this.#plugin, this.#threadId, what);
    if (!this.alive) return error;
    const reason = `terminated: it broke glean's protocol: it ${what}`;
    this.#endReason = reason;
    const served = this.#state === 'ready';
    // A worker still loading reports through start()'s rejection, as when it is stopped; one that served is a crash.
    this.#state = served ? 'dead' : 'stopping';
    // Nothing more it sends on a stream can be trusted: each ends now, after the items that came before.
    this.#streams.finish((id) => protocolBreach(forId(this.#plugin, id), this.#threadId, what));
    // Still alive: its plugin cleans up before it is ended and replaced. Its calls do not wait for that.
    if (served && this.#loaded) {
      const end = { verb: 'crashed' as const, how: reason, cause: undefined, exitCode: undefined };
      this.rejectAll((id) => endError(forId(this.#plugin, id), this.#threadId, end, true));
      this.#cleanup ??= this.#runCleanup(true);
      void this.#cleanup.then(() => this.#abortThread(reason));
    } else {
      this.#abortThread(reason);
    }
    return error;
  }

  #onAbort(pending: PendingCall, signal: AbortSignal): void {
    this.#pending.settle(pending, undefined, this.#aborted(pending.id, signal));
    // The worker may still run the call; one whose event loop does not answer is replaced, as after a
    // timeout, without counting as a crash (see #checkAlive).
    void this.#checkAlive('was aborted');
  }

  #aborted(id: string, signal: AbortSignal): GleanError {
    return abortedError(forId(this.#plugin, id), signal);
  }

  #onTimeout(pending: PendingCall, timeoutMs: number): void {
    this.#pending.settle(
      pending,
      undefined,
      pluginError(ErrorCode.TIMEOUT, forId(this.#plugin, pending.id), `call timed out after ${timeoutMs} ms`),
    );
    void this.#checkAlive('timed out');
  }

  /** After a timeout: a worker whose event loop still answers stays; a blocked one is terminated. */
  async #checkAlive(after: 'timed out' | 'was aborted'): Promise<void> {
    if (this.#probing || !this.alive) return;
    this.#probing = true;
    try {
      await this.#race(() => this.#control.ping(), LIVENESS_GRACE_MS, 'no answer to a ping');
    } catch {
      if (this.alive) {
        // Replaced either way: a worker that does not answer serves no one. After an abort it is not the
        // plugin's crash (the caller gave up on a long call), so it does not count towards a crash loop.
        this.#unresponsiveAfterAbort = after === 'was aborted';
        this.#unresponsive = true;
        this.#endReason = `its event loop was blocked: no answer to a ping within ${LIVENESS_GRACE_MS} ms after a call ${after}`;
        this.#state = 'dead';
        this.#abortThread(this.#endReason);
      }
    } finally {
      this.#probing = false;
    }
  }

  /**
   * A comlink promise raced against this worker's end, a deadline, and the control port failing to
   * carry an answer, so it always settles. What it resolves with came from the worker: check it.
   */
  #race(call: () => Promise<unknown>, timeoutMs: number, timeoutMessage: string): Promise<unknown> {
    // Checked before the call is made: an ended slot's comlink proxy is released, and would throw its own words.
    if (this.#endError !== undefined) return Promise.reject(this.#endError);
    if (this.#portLost !== undefined) return Promise.reject(this.#portLost.error);
    let promise: Promise<unknown>;
    try {
      promise = call();
    } catch (error) {
      return Promise.reject(error);
    }
    let timer: NodeJS.Timeout | undefined;
    let fail: ((error: GleanError) => void) | undefined;
    // No reaction on #ended per call: a slot lives long and is probed after every timeout; #onEnd fails the waits instead.
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new GleanError(ErrorCode.TIMEOUT, timeoutMessage, {
                id: this.#plugin.id,
                file: this.#plugin.file,
                version: this.#plugin.version,
              }),
            ),
          timeoutMs,
        );
        fail = reject;
        this.#controlWaits.add(reject);
      }),
    ]).finally(() => {
      clearTimeout(timer);
      if (fail !== undefined) this.#controlWaits.delete(fail);
    });
  }

  /** The serve task settled: the worker stopped, was terminated, or died. */
  async #onEnd(error: unknown): Promise<GleanError> {
    const before = this.#state;
    const wasAsked = before === 'stopping';
    this.#state = 'dead';
    await Promise.race([this.#exited, new Promise((resolve) => setImmediate(resolve))]);
    const how = this.#endReason ?? deathDetail(error, this.#exitCode);
    this.#deathDetail = how;
    const verb: EndVerb = wasAsked ? 'was stopped' : 'crashed';
    const end = { verb, how, cause: error, exitCode: this.#exitCode };
    const crash = endError(this.#plugin, this.#threadId, end);
    this.#endError = crash;
    for (const fail of [...this.#controlWaits]) fail(crash);
    this.#pending.rejectAll((id) => endError(forId(this.#plugin, id), this.#threadId, end, true));
    // A stream gets the items that arrived before the worker's end first.
    this.#streams.finish((id) => endError(forId(this.#plugin, id), this.#threadId, end, true), true);
    this.#pending.clear();
    this.#callPort.close();
    this.#controlPort.close();
    this.#modules.close();
    // Children still running once the thread is gone (it crashed, or started one as it was stopped) are ended
    // here; nothing can reap them any more (docs/architecture.md, "Child processes").
    void this.#children.end();
    // comlink's FinalizationRegistry holds the control port, and with it every listener on it and every
    // control call left unanswered, until the proxy is released: without this, no ended slot is freed.
    this.#control[releaseProxy]();
    // The serve task ends with its thread (unless plugin code forged piscina's answer): let the pool go too.
    this.#destroyPool();
    // A slot still starting reports through start()'s rejection; one stopped on purpose not at all.
    // 'dead' before the end means #checkAlive found it blocked while it served.
    if (before === 'ready' || before === 'dead') {
      try {
        this.#hooks.onDeath(this, crash);
      } catch {
        // The version's bookkeeping must not make #ended reject: nothing would catch it.
      }
    }
    return crash;
  }
}

/**
 * The end of workers, every step in this order, all workers at once:
 * 1. the plugin's cleanup in each worker ({@link Slot.cleanUp}: `dispose`, then `onDispose` functions), each
 *    bounded by its `disposeTimeoutMs`; skipped where the plugin never loaded or the worker cannot answer;
 * 2. the child processes each worker's plugin started and that still run ({@link Slot.endChildren}:
 *    SIGTERM, SIGKILL after `CHILD_GRACE_MS`, reaped by the worker's own loop); at once where there are none;
 * 3. the threads, terminated, each waited for at most {@link EXIT_TIMEOUT_MS}.
 * Resolves with the thread ids of those still running then (blocked in a system call, which no
 * termination interrupts): nothing waits for them.
 */
export async function stopSlots(slots: readonly Slot[], reason: string): Promise<number[]> {
  await Promise.all(slots.map((slot) => slot.cleanUp(reason)));
  await Promise.all(slots.map((slot) => slot.endChildren()));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(slots.map((slot) => slot.terminate(reason))),
    new Promise((resolve) => (timer = setTimeout(resolve, EXIT_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  return slots.filter((slot) => !slot.hasExited).map((slot) => slot.threadId);
}
