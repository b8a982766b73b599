import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { wrap, type Endpoint, type Remote } from 'comlink';
import type { Piscina } from 'piscina';
import {
  PROTOCOL_VERSION,
  deserializeError,
  describeValue,
  findUncloneable,
  isResult,
  transferablesOf,
  type CallMessage,
  type ControlApi,
  type DescribeResult,
  type LoadResult,
  type PrepareOptions,
  type ExportDescription,
  type ServeTask,
  type WireFailure,
  type WorkerMessage,
} from '@glean/worker/protocol';
import { ErrorCode, GleanError, describePlugin } from './errors.js';

/** How long {@link Slot.terminate} waits for a booting worker to say hello before stopping it anyway. */
const BOOT_GRACE_MS = 10_000;

/** How long a worker whose call timed out has to answer a ping before it counts as blocked and is terminated. */
export const LIVENESS_GRACE_MS = 1000;

/** Who the slot serves, for messages. */
export interface SlotContext {
  /** The id that asked for this version first, named in load errors. */
  readonly id: string | undefined;
  readonly file: string;
  readonly version: string;
}

/** What a worker imports: the file's real path, and its bytes when the version pins them. */
export interface SlotLoad {
  /** The plugin file's real path, as checked against the root. */
  readonly file: string;
  /** The file's bytes as the host checked them; without, the worker reads the file. */
  readonly source?: Uint8Array | undefined;
}

/** What a slot tells its version. */
export interface SlotHooks {
  /** A call settled (result, error, timeout or crash): the version may dispatch queued calls or finish draining. */
  onSettle(slot: Slot): void;
  /** The worker died without being asked to: every call on it has been rejected already. */
  onDeath(slot: Slot, error: GleanError): void;
}

/** Per-id call numbers, shared by every handle of the id across its versions. */
export interface CallStats {
  readonly id: string;
  calls: number;
  errors: number;
  lastError: Error | undefined;
}

interface Pending {
  readonly stats: CallStats;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  /** Settled early (timed out or drained away); the worker may still be running it. */
  settled: boolean;
}

type SlotState = 'starting' | 'ready' | 'stopping' | 'dead';

/**
 * One worker thread of a plugin version: the piscina serve task that owns the thread, the call
 * port (hot path, glean's own protocol) and the control port (comlink). Every call in flight on a
 * slot settles: with its reply, its timeout, or a coded error when the worker dies.
 */
export class Slot {
  readonly #pool: Piscina;
  #context: SlotContext = { id: undefined, file: '(not yet loaded)', version: '' };
  #hooks: SlotHooks = { onSettle() {}, onDeath() {} };
  #load: SlotLoad = { file: '' };
  readonly #hello: Promise<void>;
  #saidHello: () => void = () => {};
  readonly #abort = new AbortController();
  readonly #callPort: MessagePort;
  readonly #controlPort: MessagePort;
  readonly #control: Remote<ControlApi>;
  readonly #pending = new Map<number, Pending>();
  readonly #ended: Promise<GleanError>;
  #exited: Promise<void>;
  #nextId = 0;
  #unsettled = 0;
  #state: SlotState = 'starting';
  #threadId = -1;
  #exitCode: number | undefined;
  #endReason: string | undefined;
  #deathDetail = '';
  #probing = false;

  /** Starts a worker thread of `pool`; it takes a plugin with {@link Slot.bind} and {@link Slot.start}. */
  constructor(pool: Piscina) {
    this.#pool = pool;
    this.#hello = new Promise((resolve) => (this.#saidHello = resolve));
    const calls = new MessageChannel();
    const control = new MessageChannel();
    this.#callPort = calls.port1;
    this.#controlPort = control.port1;
    this.#control = wrap<ControlApi>(control.port1 as unknown as Endpoint);
    this.#callPort.on('message', this.#onMessage);
    const task: ServeTask = { protocol: PROTOCOL_VERSION, callPort: calls.port2, controlPort: control.port2 };
    const run = pool.run(task, { transferList: [calls.port2, control.port2], signal: this.#abort.signal });
    this.#exited = run.then(
      () => undefined,
      () => undefined,
    );
    this.#ended = run.then(
      () => this.#onEnd(undefined),
      (error: unknown) => this.#onEnd(error),
    );
  }

  /** The worker's thread id, once it said hello; -1 before. */
  get threadId(): number {
    return this.#threadId;
  }

  /** Calls sent to this worker that it has not answered yet, including ones that already timed out. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Calls not yet settled for their callers; what counts against `concurrency` and for least-busy dispatch. */
  get unsettled(): number {
    return this.#unsettled;
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

  /**
   * Says which plugin version this worker serves (for messages), whom to tell about calls settling
   * and death, and, for a version that pins its bytes, the bytes to load instead of the file on disk.
   */
  bind(context: SlotContext, hooks: SlotHooks, load: SlotLoad): void {
    this.#context = context;
    this.#hooks = hooks;
    this.#load = load;
  }

  /**
   * Resolves once the thread runs glean's serve task, with the module hooks registered that
   * `options` ask for: what a worker started ahead of time waits for. Rejects if the worker dies first.
   */
  async warm(options: PrepareOptions, timeoutMs: number): Promise<void> {
    await this.#race(this.#hello, timeoutMs, `worker did not start within ${timeoutMs} ms`);
    if (options.typescript || options.pinned) await this.#race(this.#control.prepare(options), timeoutMs, `module hooks not ready within ${timeoutMs} ms`);
  }

  /**
   * Imports the plugin in this worker and describes `names` (in order). Rejects with a `GleanError`
   * (`GLEAN_LOAD_FAILED`, `GLEAN_SYMBOL_NOT_FOUND`, `GLEAN_NOT_CLONEABLE`) and terminates the worker
   * when the import fails, throws, crashes or is still pending after `loadTimeoutMs`.
   */
  async start(names: readonly string[], loadTimeoutMs: number): Promise<ExportDescription[]> {
    const where = describePlugin(this.#context.id, this.#context.file, this.#context.version);
    try {
      const { file, source } = this.#load;
      // With `source`, the worker registers its source hooks itself before it imports (importPlugin).
      const loaded = await this.#race<LoadResult>(this.#control.load(file, source, names), loadTimeoutMs, `import still pending after ${loadTimeoutMs} ms`);
      if (!loaded.ok) throw failureToError(loaded.failure, where, this.#context);
      const descriptions = loaded.descriptions.map((answer) => {
        if (!answer.ok) throw failureToError(answer.failure, where, this.#context);
        return answer.description;
      });
      if (this.#state === 'starting') this.#state = 'ready';
      return descriptions;
    } catch (error) {
      const crashed = error instanceof GleanError && error.code === ErrorCode.PLUGIN_CRASHED;
      const failure =
        error instanceof GleanError && !crashed && error.code !== ErrorCode.TIMEOUT
          ? error
          : new GleanError(ErrorCode.LOAD_FAILED, `${where}: cannot load: ${crashed ? `the worker ${this.#deathDetail}` : (error as Error).message}`, {
              ...this.#context,
              cause: error,
            });
      // Not stopped here: a version's failed start destroys its whole pool at once (see destroyPool), and
      // a lone replacement is terminated by its version. Stopping threads one by one while others boot
      // makes piscina respawn them.
      this.expectEnd('load failed');
      throw failure;
    }
  }

  /** Looks up one more export in the already imported module. */
  async describe(name: string, timeoutMs: number): Promise<ExportDescription> {
    const where = describePlugin(this.#context.id, this.#context.file, this.#context.version);
    const answer = await this.#race<DescribeResult>(this.#control.describe(name), timeoutMs, `describing export "${name}" took over ${timeoutMs} ms`);
    if (!answer.ok) throw failureToError(answer.failure, where, this.#context);
    return answer.description;
  }

  /** Sends one call. `id` is the plugin id, for messages. Rejects with a coded error, never hangs. */
  call(stats: CallStats, name: string, member: string | null, args: readonly unknown[], timeoutMs: number | undefined): Promise<unknown> {
    const callId = ++this.#nextId;
    const { id } = stats;
    return new Promise((resolve, reject) => {
      try {
        this.#callPort.postMessage([callId, name, member, args] satisfies CallMessage, transferList(args));
      } catch (error) {
        const path = findUncloneable(args, 'args') ?? 'an argument';
        reject(
          new GleanError(ErrorCode.NOT_CLONEABLE, `${describePlugin(id, this.#context.file, this.#context.version)}: ${path} cannot be sent to the worker`, {
            cause: error,
            ...this.#context,
            id,
          }),
        );
        return;
      }
      const pending: Pending = { stats, resolve, reject, timer: undefined, settled: false };
      if (timeoutMs !== undefined) pending.timer = setTimeout(this.#onTimeout, timeoutMs, callId, timeoutMs);
      this.#pending.set(callId, pending);
      this.#unsettled++;
    });
  }

  /**
   * Rejects every unsettled call with `error` (they may still run in the worker until it is
   * terminated). Used when a drain runs out of time.
   */
  rejectAll(error: (id: string) => GleanError): void {
    for (const pending of this.#pending.values()) this.#settle(pending, undefined, error(pending.stats.id));
  }

  /**
   * Says the worker is about to be stopped from outside (its whole pool destroyed), so its end is no
   * crash: calls still in flight will reject `GLEAN_PLUGIN_CRASHED` with `reason`.
   */
  expectEnd(reason: string): void {
    if (this.#state === 'dead' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    this.#endReason = reason;
  }

  /** Stops the worker now: calls still in flight reject `GLEAN_PLUGIN_CRASHED` with `reason`. Idempotent; resolves once the thread has exited. */
  async terminate(reason: string): Promise<void> {
    if (this.#state !== 'dead' && !this.#abort.signal.aborted) {
      this.expectEnd(reason);
      // A worker still booting cannot be stopped cleanly yet (piscina would respawn it, and Node may
      // abort the process if it dies while loading the entry module): wait for its hello, or its end.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#hello, this.#ended, new Promise((resolve) => (timer = setTimeout(resolve, BOOT_GRACE_MS)))]);
      clearTimeout(timer);
      this.#abort.abort(new Error(reason));
    }
    await this.#ended;
    await this.#exited;
  }

  #onMessage = (message: WorkerMessage): void => {
    if (isResult(message)) {
      const pending = this.#pending.get(message[0]);
      if (pending === undefined) return;
      this.#pending.delete(message[0]);
      this.#settle(pending, message[1], undefined);
      return;
    }
    if (message.type === 'hello') {
      // Only the serve task's first word counts; the port is glean's, but be strict about it.
      if (this.#threadId !== -1) return;
      this.#threadId = message.threadId;
      this.#saidHello();
      const worker = this.#pool.threads.find((thread: Worker) => thread.threadId === message.threadId);
      if (worker !== undefined) {
        // Known exit code for crash messages, and a promise that truly waits for the thread to end.
        this.#exited = new Promise((resolve) =>
          worker.once('exit', (code) => {
            this.#exitCode = code;
            resolve();
          }),
        );
      }
      return;
    }
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    this.#settle(pending, undefined, this.#failure(pending.stats.id, message.error));
  };

  #settle(pending: Pending, value: unknown, error: unknown): void {
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pending.timer = undefined;
    if (pending.settled) return;
    pending.settled = true;
    this.#unsettled--;
    if (error === undefined) {
      pending.resolve(value);
    } else {
      pending.stats.errors++;
      pending.stats.lastError = error as Error;
      pending.reject(error);
    }
    this.#hooks.onSettle(this);
  }

  #failure(id: string, failure: WireFailure): Error {
    if (failure.reason === 'thrown' && failure.error.isError) return deserializeError(failure.error);
    const where = describePlugin(id, this.#context.file, this.#context.version);
    if (failure.reason === 'thrown') {
      const thrown = failure.error.value;
      return new GleanError(ErrorCode.PLUGIN_THREW, `${where} threw a non-Error value: ${failure.error.message}`, { ...this.#context, id, thrown });
    }
    return failureToError(failure, where, { ...this.#context, id });
  }

  #onTimeout = (callId: number, timeoutMs: number): void => {
    const pending = this.#pending.get(callId);
    if (pending === undefined) return;
    pending.timer = undefined;
    const { id } = pending.stats;
    const where = describePlugin(id, this.#context.file, this.#context.version);
    this.#settle(pending, undefined, new GleanError(ErrorCode.TIMEOUT, `${where}: call timed out after ${timeoutMs} ms`, { ...this.#context, id }));
    void this.#checkAlive();
  };

  /** After a timeout: a worker whose event loop still answers stays; a blocked one is terminated. */
  async #checkAlive(): Promise<void> {
    if (this.#probing || !this.alive) return;
    this.#probing = true;
    try {
      await this.#race(this.#control.ping(), LIVENESS_GRACE_MS, 'no answer to a ping');
    } catch {
      if (this.alive) {
        this.#endReason = `its event loop was blocked: no answer to a ping within ${LIVENESS_GRACE_MS} ms after a call timed out`;
        this.#state = 'dead';
        this.#abort.abort(new Error(this.#endReason));
      }
    } finally {
      this.#probing = false;
    }
  }

  /** A comlink promise raced against this worker's end and a deadline, so it always settles. */
  #race<T>(promise: Promise<T>, timeoutMs: number, timeoutMessage: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      promise,
      this.#ended.then((error) => Promise.reject(error)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GleanError(ErrorCode.TIMEOUT, timeoutMessage, this.#context)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** The serve task settled: the worker stopped, was terminated, or died. */
  async #onEnd(error: unknown): Promise<GleanError> {
    const before = this.#state;
    const wasAsked = before === 'stopping';
    this.#state = 'dead';
    await Promise.race([this.#exited, new Promise((resolve) => setImmediate(resolve))]);
    const where = describePlugin(this.#context.id, this.#context.file, this.#context.version);
    const how = this.#endReason ?? deathDetail(error, this.#exitCode);
    this.#deathDetail = how;
    const verb = wasAsked ? 'was stopped' : 'crashed';
    const crash = new GleanError(ErrorCode.PLUGIN_CRASHED, `${where}: worker thread ${this.#threadId} ${verb}: ${how}`, {
      cause: error,
      exitCode: this.#exitCode,
      ...this.#context,
    });
    this.rejectAll(
      (id) =>
        new GleanError(ErrorCode.PLUGIN_CRASHED, `${describePlugin(id, this.#context.file, this.#context.version)}: worker thread ${this.#threadId} ${verb} during the call: ${how}`, {
          cause: error,
          ...this.#context,
          exitCode: this.#exitCode,
          id,
        }),
    );
    this.#pending.clear();
    this.#callPort.close();
    this.#controlPort.close();
    // A slot still starting reports through start()'s rejection; one stopped on purpose not at all.
    // 'dead' before the end means #checkAlive found it blocked while it served.
    if (before === 'ready' || before === 'dead') this.#hooks.onDeath(this, crash);
    return crash;
  }
}

/** How a worker ended, for people: the uncaught error when there is one, and the exit code. */
function deathDetail(error: unknown, exitCode: number | undefined): string {
  const code = exitCode === undefined ? '' : ` (exit code ${exitCode})`;
  if (error instanceof Error && !/^worker exited with code/.test(error.message) && error.name !== 'AbortError') {
    return `${error.name}: ${error.message}${code}`;
  }
  if (exitCode !== undefined) return `exited with code ${exitCode}`;
  return error instanceof Error ? error.message : 'stopped';
}

/** The transferables marked on any argument, or `undefined` (the common case: nothing to scan further). */
function transferList(args: readonly unknown[]): never[] | undefined {
  let list: unknown[] | undefined;
  for (const arg of args) {
    const moved = transferablesOf(arg);
    if (moved !== undefined) (list ??= []).push(...moved);
  }
  return list as never[] | undefined;
}

/** Turns a worker-side failure into the coded error a caller sees. */
export function failureToError(failure: WireFailure, where: string, context: { id?: string | undefined; file: string; version: string }): GleanError {
  switch (failure.reason) {
    case 'not-found':
      return new GleanError(ErrorCode.SYMBOL_NOT_FOUND, `${where}: ${failure.message}`, context);
    case 'not-cloneable':
      return new GleanError(ErrorCode.NOT_CLONEABLE, `${where}: ${failure.message}`, context);
    case 'protocol-mismatch':
      return new GleanError(ErrorCode.PROTOCOL_MISMATCH, `${where}: ${failure.message}`, context);
    case 'load-failed':
      return new GleanError(ErrorCode.LOAD_FAILED, `${where}: ${failure.message}`, { ...context, cause: deserializeError(failure.error) });
    case 'thrown':
      return new GleanError(ErrorCode.PLUGIN_THREW, `${where} threw ${describeValue(failure.error.value ?? failure.error.message)}`, {
        ...context,
        cause: failure.error.isError ? deserializeError(failure.error) : undefined,
        thrown: failure.error.value,
      });
  }
}
