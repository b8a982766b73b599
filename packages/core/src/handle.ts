import type { ExportDescription, ExportKind } from '@glean/worker/protocol';
import type { CallOptions } from './call-options.js';
import { countCall, type CallObserver, type CallStats, type CallTracker } from './call-stats.js';
import { callChannel, callContext, type CallTrace } from './channels.js';
import { gleanOf } from './engines.js';
import { ErrorCode, GleanError } from './errors.js';
import { forId } from './plugin-ref.js';
import { snapshotForHandle } from './snapshot.js';
import { StreamOwner } from './stream.js';
import type { PluginVersion } from './version.js';

/**
 * A streamed result as its caller reads it: the items of the plugin's async iterable, pulled from the
 * worker as they are read. `return()` (what `break` calls) stops the iterator in the worker and
 * resolves once its `finally` ran.
 */
export interface ResultStream<T> extends AsyncIterableIterator<T> {
  /**
   * The next item, asking the worker for more as the window empties. Resolves `{ done: true }` once the
   * iterator finished (or after the stream ended with an error); rejects with the plugin's error,
   * `GLEAN_PLUGIN_CRASHED`, `GLEAN_TIMEOUT` (no item within `timeoutMs`, or nobody read for
   * `STREAM_IDLE_TIMEOUT_MS`), `GLEAN_ABORTED`, `GLEAN_RELEASED`, `GLEAN_CLOSED` or `GLEAN_DRAIN_TIMEOUT`.
   */
  next(): Promise<IteratorResult<T, undefined>>;
  /**
   * Stops the stream: the iterator in the worker is returned (its `finally` runs) and items not read
   * are dropped. Resolves once the worker's iterator returned or the worker is gone, after `timeoutMs` at
   * most (then the worker is probed, as after a call's timeout); never rejects.
   */
  return(): Promise<IteratorReturnResult<undefined>>;
}

/**
 * What a call's result is on the host: an async iterable (an async generator, a `ReadableStream`, a
 * Node `Readable`) streams, and arrives as a {@link ResultStream} of its items; anything else as it is.
 */
export type Streamed<R> = R extends AsyncIterable<infer T> ? ResultStream<T> : R;

/** `(...a: A) => R` becomes `(...a: A) => Promise<Streamed<Awaited<R>>>`: every call crosses a thread, and async iterables stream. */
export type AsyncFunction<F> = F extends (...args: infer A) => infer R
  ? (...args: A) => Promise<Streamed<Awaited<R>>>
  : never;

/** The keys of `T` whose values are functions. */
export type MethodKeys<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  string;

/** Handle of an object export: each method callable, returning a promise. */
export type ObjectHandle<T> = { readonly [K in MethodKeys<T>]: AsyncFunction<NonNullable<T[K]>> };

/** Handle of a data export: `value` is the current version's structured-clone snapshot, read synchronously. */
export interface ValueHandle<T> {
  readonly value: T;
}

/** What every handle has, on symbol keys so they never clash with a plugin's own names. */
export interface HandleControls {
  /** Releases the handle, as `glean.release(handle)` or `release(handle)`; for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

type BuiltinData =
  | readonly unknown[]
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>
  | Date
  | RegExp
  | ArrayBuffer
  | ArrayBufferView;

/**
 * The handle type for an export of type `T`: callable for a function, an object of async methods
 * for an object with methods, `{ value }` for data.
 */
export type Handle<T> = (T extends (...args: never[]) => unknown
  ? AsyncFunction<T>
  : T extends BuiltinData
    ? ValueHandle<T>
    : T extends object
      ? [MethodKeys<T>] extends [never]
        ? ValueHandle<T>
        : ObjectHandle<T>
      : ValueHandle<T>) &
  HandleControls;

/** The version and export a handle's calls go to right now. */
export interface Binding {
  /** The plugin version serving the calls. */
  readonly pluginVersion: PluginVersion;
  readonly name: string;
  readonly description: ExportDescription;
  /** Told of every call made through this binding once it settles (an id with a canary: its analysis counts outcomes). */
  readonly tracker?: CallTracker | undefined;
  /** This binding is an id's canary (its calls are traced with `canary: true`). */
  readonly canary?: boolean | undefined;
}

/** What a handle asks its owner (a Glean, or loadSymbol's standalone version). */
export interface HandleOwner {
  /** The error every handle of this owner rejects with now (closed), if any. */
  available(): GleanError | undefined;
  /**
   * The binding of a live handle's id now, or the error a call should reject with; `options` (a call's
   * routing `key` and `version`) choose between the id's stable version and its canary.
   */
  current(id: string, options?: CallOptions): Binding | GleanError;
  /** The call counters of `id`, which every call through its handles counts in, whatever settles it. */
  stats(id: string): CallStats;
  /** Told of every call, as it is made and once it settles (a Glean's metrics); none when empty or absent. */
  readonly observers?: ReadonlySet<CallObserver> | undefined;
}

/** A handle's inner state; the handle object itself stays a plain function or proxy. */
export class HandleState {
  readonly id: string;
  readonly kind: ExportKind;
  readonly owner: HandleOwner;
  #pinned: Binding | undefined;
  #released = false;
  /** Streamed results of this handle's calls that can still be read: `release()` ends them. */
  readonly streams = new StreamOwner();

  constructor(id: string, kind: ExportKind, owner: HandleOwner, pinned: Binding | undefined) {
    this.id = id;
    this.kind = kind;
    this.owner = owner;
    this.#pinned = pinned;
    pinned?.pluginVersion.ref();
  }

  get released(): boolean {
    return this.#released;
  }

  /** Where a call with `options` goes now, or why it cannot. */
  binding(options?: CallOptions): Binding | GleanError {
    if (this.#released)
      return new GleanError(ErrorCode.RELEASED, `handle of "${this.id}" was released`, { id: this.id });
    const unavailable = this.owner.available();
    if (unavailable !== undefined) return unavailable;
    const binding = this.#pinned === undefined ? this.owner.current(this.id, options) : this.#pinnedFor(options);
    if (binding instanceof GleanError) return binding;
    if (binding.description.kind !== this.kind) {
      return new GleanError(
        ErrorCode.KIND_CHANGED,
        `"${this.id}" is now a ${binding.description.kind} export; this handle serves a ${this.kind}`,
        forId(binding.pluginVersion.spec, this.id),
      );
    }
    return binding;
  }

  /** A pinned handle calls its version: a call that asks for another by `version` cannot run. */
  #pinnedFor(options: CallOptions | undefined): Binding | GleanError {
    const pinned = this.#pinned as Binding;
    const wanted = options?.version;
    if (wanted === undefined || wanted === pinned.pluginVersion.spec.version) return pinned;
    return new GleanError(
      ErrorCode.NOT_CONFIGURED,
      `"${this.id}": the call asks for version ${JSON.stringify(wanted)}, but its handle is pinned to version ${JSON.stringify(pinned.pluginVersion.spec.version)}`,
      forId(pinned.pluginVersion.spec, this.id),
    );
  }

  /**
   * From now on the handle follows the id's current version (glean's Watch). Resolves once the
   * version it was pinned to has retired, if this handle was the last to hold it.
   */
  follow(): Promise<void> {
    const pinned = this.#pinned;
    this.#pinned = undefined;
    if (pinned === undefined) return Promise.resolve();
    pinned.pluginVersion.unref();
    return pinned.pluginVersion.refs === 0 ? pinned.pluginVersion.retire() : Promise.resolve();
  }

  /** Takes no more calls; a pinned version is let go. Idempotent. Resolves as {@link follow} does. */
  release(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    this.streams.endAll(
      () =>
        new GleanError(ErrorCode.RELEASED, `handle of "${this.id}" was released while its stream was read`, {
          id: this.id,
        }),
    );
    return this.follow();
  }
}

const STATES = new WeakMap<object, HandleState>();
/** The options a handle made by {@link withOptions} calls with: what a later `withOptions` or `callWithOptions` layers its own over. */
const OPTIONS = new WeakMap<object, CallOptions>();

/** `handle`'s own call options with `over`'s set ones on top (an option `over` leaves `undefined` keeps the handle's). */
function layered(handle: object, over: CallOptions): CallOptions {
  const own = OPTIONS.get(handle);
  if (own === undefined) return { ...over };
  const merged: Record<string, unknown> = { ...own };
  for (const [name, value] of Object.entries(over)) if (value !== undefined) merged[name] = value;
  return merged as CallOptions;
}

/** Members that JavaScript itself looks up on any object; a proxy that answers them all would break await, JSON and string conversion. */
const IMPLICIT_MEMBERS = new Set([
  'then',
  'toJSON',
  'toString',
  'valueOf',
  'constructor',
  'inspect',
  'asymmetricMatch',
  '$$typeof',
  'nodeType',
]);

/** The state behind a handle, or `undefined` for anything that is not one. */
export function handleState(handle: unknown): HandleState | undefined {
  return typeof handle === 'function' || (typeof handle === 'object' && handle !== null)
    ? STATES.get(handle)
    : undefined;
}

/** Every call a handle makes, counted here and only here (see call-stats.ts). */
function call(
  state: HandleState,
  member: string | null,
  args: unknown[],
  options: CallOptions | undefined,
): Promise<unknown> {
  const binding = state.binding(options);
  const refusal = binding instanceof GleanError && REFUSALS.has(binding.code);
  const sent = callChannel.hasSubscribers
    ? traced(binding, state, member, args, options)
    : send(binding, state, member, args, options);
  let tracker = binding instanceof GleanError ? undefined : binding.tracker;
  const { observers } = state.owner;
  if (observers !== undefined && observers.size > 0) tracker = observed(observers, state.id, binding, tracker);
  return countCall(state.owner.stats(state.id), sent, refusal, tracker);
}

/** Tells `observers` a call to `id` was made, and a tracker that tells them (and the binding's own `tracker`) how it settled. */
function observed(
  observers: ReadonlySet<CallObserver>,
  id: string,
  binding: Binding | GleanError,
  tracker: CallTracker | undefined,
): CallTracker {
  // The observers told of the start, and only they, are told of the end: one registered or unregistered
  // meanwhile would count a call down it never counted up (a negative calls-in-flight gauge).
  const told = [...observers];
  for (const observer of told) observer.started(id);
  const version = binding instanceof GleanError ? '' : binding.pluginVersion.spec.version;
  return {
    settled(failed, error, ms) {
      tracker?.settled(failed, error, ms);
      for (const observer of told) observer.settled(id, version, failed, error, ms);
    },
  };
}

/** Why a handle may not call at all, which says nothing of the plugin: not kept as the id's last error. */
export const REFUSALS: ReadonlySet<string> = new Set<string>([
  ErrorCode.RELEASED,
  ErrorCode.CLOSED,
  ErrorCode.NOT_CONFIGURED,
]);

/** The call as {@link send} makes it, published on the `glean.call` tracing channel (channels.ts): only when something subscribes. */
function traced(
  binding: Binding | GleanError,
  state: HandleState,
  member: string | null,
  args: unknown[],
  options: CallOptions | undefined,
): Promise<unknown> {
  const context = callContext(gleanOf(state.owner), state.id, binding, member);
  return callChannel.tracePromise(() => send(binding, state, member, args, options, context), context);
}

/** Where the call goes, and the promise of its outcome: a rejection for a handle that cannot call. */
function send(
  binding: Binding | GleanError,
  state: HandleState,
  member: string | null,
  args: unknown[],
  options: CallOptions | undefined,
  trace?: CallTrace,
): Promise<unknown> {
  if (binding instanceof GleanError) return Promise.reject(binding);
  if (member !== null && binding.description.kind === 'object' && !binding.description.methods.includes(member)) {
    return Promise.reject(
      new GleanError(
        ErrorCode.SYMBOL_NOT_FOUND,
        `"${state.id}": export "${binding.name}" has no method "${member}"; methods are: ${binding.description.methods.join(', ')}`,
        forId(binding.pluginVersion.spec, state.id),
      ),
    );
  }
  return binding.pluginVersion.call(state.id, binding.name, member, args, options, state.streams, trace);
}

/**
 * The same handle, its calls made with `options`: `await withOptions(foo, { signal })(request)`,
 * `await withOptions(calc, { timeoutMs: 100 }).add(1, 2)`, `await withOptions(foo, { key: userId })(request)`.
 * It follows, pins and releases as `handle` does (releasing either releases both). A value handle's
 * `value` is read from the version `key` and `version` choose. On a handle that `withOptions` made,
 * `options` are layered over its own: `withOptions(withOptions(foo, { timeoutMs: 50 }), { key })`
 * has both. Throws a TypeError for anything that is not a handle, or for an option of the wrong type.
 */
export function withOptions<H>(handle: H, options: CallOptions): H {
  const state = handleState(handle);
  if (state === undefined)
    throw new TypeError('withOptions() expects a handle from loadSymbol, reload or reloadAndWatch');
  checkCallOptions(options, 'withOptions()');
  return createHandle(state, layered(handle as object, options)) as H;
}

/** Throws the TypeError or RangeError of an option of the wrong type or range; `where` names the caller in the message. */
export function checkCallOptions(options: CallOptions, where: string): void {
  const { timeoutMs, signal, key, version } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `${where}: signal must be an AbortSignal, received ${signal === null ? 'null' : typeof signal}`,
    );
  }
  if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
    throw new RangeError(`${where}: timeoutMs must be an integer from 1 to 2147483647, received ${String(timeoutMs)}`);
  }
  for (const [name, value] of [
    ['key', key],
    ['version', version],
  ] as const) {
    if (value !== undefined && typeof value !== 'string')
      throw new TypeError(`${where}: ${name} must be a string, received ${value === null ? 'null' : typeof value}`);
  }
}

/**
 * Calls `handle` (a function handle) with `options` and `args`, as `withOptions(handle, options)(...args)`
 * does (layered over the handle's own options), without making a handle for one call: what the HTTP
 * adapters use per request. `undefined` for anything that is not a function handle.
 */
export function callWithOptions(handle: unknown, options: CallOptions, args: unknown[]): Promise<unknown> | undefined {
  const state = handleState(handle);
  if (state === undefined || state.kind !== 'function') return undefined;
  return call(state, null, args, layered(handle as object, options));
}

/** Builds the handle object for `state`: a function, a proxy of methods, or a `{ value }` holder. */
export function createHandle(state: HandleState, options?: CallOptions): unknown {
  const dispose = (): Promise<void> => state.release();
  let handle: object;
  if (state.kind === 'function') {
    const fn = (...args: unknown[]): Promise<unknown> => call(state, null, args, options);
    Object.defineProperty(fn, 'name', { value: state.id });
    Object.defineProperty(fn, Symbol.asyncDispose, { value: dispose });
    handle = fn;
  } else if (state.kind === 'object') {
    const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    handle = new Proxy(Object.create(null) as object, {
      get(_target, key) {
        if (key === Symbol.asyncDispose) return dispose;
        if (typeof key !== 'string') return undefined;
        // Never a thenable (`await handle` must give the handle back), and names the language calls
        // by itself (JSON.stringify, String(), …) only when the plugin really has them.
        if (IMPLICIT_MEMBERS.has(key)) {
          const binding = state.binding();
          if (
            key === 'then' ||
            binding instanceof GleanError ||
            binding.description.kind !== 'object' ||
            !binding.description.methods.includes(key)
          ) {
            return undefined;
          }
        }
        let method = methods.get(key);
        if (method === undefined) {
          method = (...args: unknown[]) => call(state, key, args, options);
          methods.set(key, method);
        }
        return method;
      },
      has(_target, key) {
        const binding = state.binding();
        return (
          typeof key === 'string' &&
          !(binding instanceof GleanError) &&
          binding.description.kind === 'object' &&
          binding.description.methods.includes(key)
        );
      },
      ownKeys() {
        const binding = state.binding();
        return binding instanceof GleanError || binding.description.kind !== 'object'
          ? []
          : [...binding.description.methods];
      },
      getOwnPropertyDescriptor(target, key) {
        const binding = state.binding();
        if (
          typeof key !== 'string' ||
          binding instanceof GleanError ||
          binding.description.kind !== 'object' ||
          !binding.description.methods.includes(key)
        ) {
          return undefined;
        }
        return {
          configurable: true,
          enumerable: true,
          writable: false,
          value: (this as ProxyHandler<object>).get!(target, key, undefined),
        };
      },
    });
  } else {
    // This handle's own copies of snapshots freezing cannot protect (see snapshot.ts).
    const copies = new WeakMap<object, unknown>();
    handle = Object.defineProperties(Object.create(null) as object, {
      value: {
        enumerable: true,
        get() {
          const binding = state.binding(options);
          if (binding instanceof GleanError) throw binding;
          return snapshotForHandle(
            (binding.description as Extract<ExportDescription, { kind: 'value' }>).value,
            copies,
          );
        },
      },
      [Symbol.asyncDispose]: { value: dispose },
    });
  }
  STATES.set(handle, state);
  if (options !== undefined) OPTIONS.set(handle, options);
  return handle;
}
