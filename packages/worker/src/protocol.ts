/**
 * The wire between glean's main thread and a plugin worker. One file, plain data only:
 * everything here crosses `postMessage`, so no classes, no functions, no symbols.
 *
 * A worker has two channels (see docs/architecture.md):
 * - the **call port**: the hot path, one {@link CallMessage} per call and one {@link ResultMessage}
 *   or {@link ErrorMessage} back, matched by `id`. Calls and results are tuples: structured clone
 *   writes no property names for them, which is measurable on every call (bench/, docs/benchmarks.md);
 * - the **control port**: the rare operations (load, describe, ping), exposed
 *   with comlink as a {@link ControlApi}.
 */

/**
 * Marks what a value hands over instead of copying: `ArrayBuffer`s (and `MessagePort`s) listed under
 * this key move to the other thread, and are detached on this one. A registered symbol, so a plugin
 * can use it without importing glean, and structured clone never copies it.
 */
export const TRANSFER: unique symbol = Symbol.for('glean.transfer') as never;

/** Anything `postMessage` can transfer. */
export type Transferable = ArrayBuffer | MessagePortLike;

/**
 * Returns `value` marked so that `transferables` move with it across the thread boundary instead
 * of being copied: `handle(transfer(request, [request.body.buffer]))`, or in a plugin,
 * `return transfer(response, [bytes.buffer])`. The sender must not use them afterwards.
 */
export function transfer<T extends object>(value: T, transferables: readonly Transferable[]): T {
  Object.defineProperty(value, TRANSFER, { value: transferables, configurable: true, enumerable: false });
  return value;
}

/** The transferables marked on `value` (see {@link transfer}), if any. */
export function transferablesOf(value: unknown): readonly Transferable[] | undefined {
  return value !== null && typeof value === 'object' ? (value as { [TRANSFER]?: readonly Transferable[] })[TRANSFER] : undefined;
}

/** Whether a plugin file is TypeScript (`.ts`, `.mts`, `.cts`, `.tsx`): its worker needs tsx. Host and worker decide by this one rule. */
export function isTypeScriptFile(file: string): boolean {
  return /\.(?:[cm]?ts|tsx)$/.test(file);
}

/** Bumped whenever a message changes shape; the core refuses a worker that speaks another. */
export const PROTOCOL_VERSION = 2;

/** What the main thread hands to a worker when it starts (the piscina task); the plugin comes later, with `load`. */
export interface ServeTask {
  readonly protocol: number;
  /** Hot path: `CallMessage` in, `ReplyMessage` out. */
  readonly callPort: MessagePortLike;
  /** Control path: a comlink endpoint serving {@link ControlApi}. */
  readonly controlPort: MessagePortLike;
}

/** The structural part of `node:worker_threads` MessagePort the protocol relies on. */
export interface MessagePortLike {
  postMessage(value: unknown, transferList?: readonly unknown[]): void;
}

/**
 * Main → worker, the only message the worker takes on the call port: call the export `name` (or its
 * method `member`, `null` for the export itself) with `args`.
 */
export type CallMessage = readonly [id: number, name: string, member: string | null, args: readonly unknown[]];

/** Worker → main: the call `id` returned `value`. The only array the worker posts on the call port. */
export type ResultMessage = readonly [id: number, value: unknown];

/** Worker → main: the call `id` failed. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly id: number;
  readonly error: WireFailure;
}

/** Worker → main, once, first: the worker's thread id. */
export interface HelloMessage {
  readonly type: 'hello';
  readonly threadId: number;
}

export type ReplyMessage = ResultMessage | ErrorMessage;

/** Everything the worker posts on the call port. */
export type WorkerMessage = HelloMessage | ReplyMessage;

/** Whether a call-port message from the worker is a result (the tuple), not an error or the hello. */
export function isResult(message: WorkerMessage): message is ResultMessage {
  return Array.isArray(message);
}

/**
 * Why a worker-side operation failed, as data. `thrown` is what the plugin threw;
 * the other reasons are glean's own and become `GleanError`s with a code on the main thread.
 */
export type WireFailure =
  | { readonly reason: 'thrown'; readonly error: SerializedError }
  | { readonly reason: 'not-found'; readonly message: string; readonly available: readonly string[] }
  | { readonly reason: 'not-cloneable'; readonly message: string }
  | { readonly reason: 'load-failed'; readonly message: string; readonly error: SerializedError }
  | { readonly reason: 'protocol-mismatch'; readonly message: string };

/** What kind of thing an export is; it decides the shape of its handle. */
export const ExportKind = {
  FUNCTION: 'function',
  OBJECT: 'object',
  VALUE: 'value',
} as const;
export type ExportKind = (typeof ExportKind)[keyof typeof ExportKind];

/** A loaded export, as the worker saw it. */
export type ExportDescription =
  | { readonly kind: 'function'; readonly name: string }
  | { readonly kind: 'object'; readonly name: string; readonly methods: readonly string[] }
  | { readonly kind: 'value'; readonly name: string; readonly value: unknown };

/** Answer of {@link ControlApi.describe}. */
export type DescribeResult =
  | { readonly ok: true; readonly description: ExportDescription }
  | { readonly ok: false; readonly failure: WireFailure };

/** Answer of {@link ControlApi.load}. */
export type LoadResult =
  | { readonly ok: true; readonly protocol: number; readonly descriptions: readonly DescribeResult[] }
  | { readonly ok: false; readonly failure: WireFailure };

/** What a worker readies before it knows its plugin file. */
export interface PrepareOptions {
  /** Register the TypeScript hooks. */
  readonly typescript: boolean;
  /** Register glean's source hooks (before TypeScript's), so the plugin's bytes can come from the host. */
  readonly pinned: boolean;
}

/** The worker's control surface, served over the control port with comlink. Every method returns a promise on the main side. */
export interface ControlApi {
  /**
   * Gets ready for a plugin before knowing which: registers the source hooks when `pinned`, then the
   * TypeScript hooks when `typescript`. Lets a worker started ahead of time take its plugin at once.
   */
  prepare(options: PrepareOptions): Promise<void>;
  /**
   * Imports the plugin file (absolute path), once per worker, and describes the exports `names` in
   * the same round trip. With `source`, the file's bytes are these (checked by the host), not what is
   * on disk.
   */
  load(file: string, source: Uint8Array | undefined, names: readonly string[]): LoadResult | Promise<LoadResult>;
  /** Looks up the export `name` and says what it is; a value export's snapshot travels in the answer. */
  describe(name: string): DescribeResult;
  /** Answers at once if the worker's event loop is free. */
  ping(): number;
}

/**
 * An error as plain data. Structured clone keeps only `message`, `name`-less Error and `stack`,
 * and drops `code`, custom class names and extra properties; this keeps them.
 */
export interface SerializedError {
  readonly isError: boolean;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable properties (`code`, `status`, …) that can be cloned. */
  readonly props: Readonly<Record<string, unknown>>;
  readonly cause: SerializedError | undefined;
  /** For a thrown non-Error: the value itself if it can be cloned. */
  readonly value?: unknown;
}

const BUILTIN_ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Turns anything thrown into {@link SerializedError}, keeping name, message, stack, `code`, other own properties and `cause`. */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  if (!(thrown instanceof Error)) {
    const plain = cloneable(thrown);
    return {
      isError: false,
      name: typeof thrown,
      message: describeValue(thrown),
      stack: undefined,
      props: {},
      cause: undefined,
      ...(plain ? { value: thrown } : {}),
    };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (key === 'cause') continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (cloneable(value)) props[key] = value;
  }
  const hasCause = 'cause' in thrown && thrown.cause !== undefined && depth < 8;
  return {
    isError: true,
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    props,
    cause: hasCause ? serializeError(thrown.cause, depth + 1) : undefined,
  };
}

/** Rebuilds an Error from {@link SerializedError}: the same name, message, stack, `code`, own properties and cause. */
export function deserializeError(data: SerializedError): Error {
  const Ctor = BUILTIN_ERRORS[data.name] ?? Error;
  const error = new Ctor(data.message);
  if (error.name !== data.name) {
    Object.defineProperty(error, 'name', { value: data.name, configurable: true, writable: true, enumerable: false });
  }
  Object.defineProperty(error, 'stack', { value: data.stack, configurable: true, writable: true, enumerable: false });
  Object.assign(error, data.props);
  if (data.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: data.cause.isError ? deserializeError(data.cause) : (data.cause.value ?? data.cause.message),
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  return error;
}

/** A short, safe rendering of any value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'symbol') return value.toString();
  if (value === null || typeof value !== 'object') return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Finds where a value stops being cloneable: `args[1].onDone` for a function nested in an argument.
 * Returns `undefined` when the whole value clones. Walks plain objects and arrays only, so it is cheap
 * and is only run after a clone already failed.
 */
export function findUncloneable(value: unknown, path: string, seen = new Set<unknown>()): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol') return `${path} (${describeValue(value)})`;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUncloneable(value[i], `${path}[${i}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return cloneable(value) ? undefined : `${path} (${Object.prototype.toString.call(value)})`;
  }
  for (const [key, child] of Object.entries(value)) {
    const found = findUncloneable(child, /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
