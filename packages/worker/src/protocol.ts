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
 *
 * A call whose result is an async iterable streams it on the call port (protocol 7): a
 * {@link StreamMessage} instead of the result, then {@link ItemsMessage}s as the host grants room
 * ({@link PullMessage}), and an {@link EndMessage} or an {@link ErrorMessage} last.
 */
import { isBuiltin } from 'node:module';
import { MessagePort } from 'node:worker_threads';

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

/**
 * The transferables marked on `value` (see {@link transfer}), if any: an array of glean's own. Never
 * throws: a value from a plugin may carry anything under the key, or a getter or a Proxy trap that
 * throws (no marks then: copying the value fails where it is reported, for that call or item alone).
 */
export function transferablesOf(value: unknown): readonly Transferable[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  try {
    const marked: unknown = (value as { [TRANSFER]?: unknown })[TRANSFER];
    return Array.isArray(marked) ? ([...marked] as Transferable[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a result streams: an object with a `Symbol.asyncIterator` method (an async generator, a
 * `ReadableStream`, a Node `Readable`). Never throws: a getter or trap that does makes it no stream.
 */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
  } catch {
    return false;
  }
}

/** Whether a plugin file is TypeScript (`.ts`, `.mts`, `.cts`, `.tsx`): the host compiles it before a worker gets it. */
export function isTypeScriptFile(file: string): boolean {
  return /\.(?:[cm]?ts|tsx)$/.test(file);
}

/**
 * Bumped whenever a message changes shape. The worker says which it speaks in its hello, whose
 * shape never changes, and the host refuses a worker that speaks another (`GLEAN_PROTOCOL_MISMATCH`).
 */
export const PROTOCOL_VERSION = 10;

/** What the main thread hands to a worker when it starts (the piscina task); the plugin comes later, with `load`. */
export interface ServeTask {
  /** Hot path: `CallMessage` in, `ReplyMessage` out. */
  readonly callPort: MessagePortLike;
  /** Control path: a comlink endpoint serving {@link ControlApi}. */
  readonly controlPort: MessagePortLike;
  /**
   * The plugin root's real path as a `file:` URL, no trailing slash: what is inside it and outside
   * any `node_modules` folder is plugin-owned (see {@link isPluginOwned}) and comes from the host.
   */
  readonly root: string;
  /**
   * Two module channels to the host (see {@link ModuleRequest}): the first for the module hooks, the
   * second for CommonJS loading where the hooks run on a thread of their own (Node before 22.15).
   */
  readonly modules: readonly [ModuleChannelEnd, ModuleChannelEnd];
}

/** One end of a module channel: the port, and the word the host writes the answered `seq` into before it wakes the asker. */
export interface ModuleChannelEnd {
  readonly port: MessagePortLike;
  /** An `Int32Array` view of one element over this `SharedArrayBuffer`. */
  readonly signal: SharedArrayBuffer;
}

/**
 * Worker → host, on a module channel: how glean's module hooks learn a plugin-owned module. The
 * worker waits for the answer synchronously (module hooks and `require` are synchronous), so each
 * request carries `seq`, and the host writes that `seq` into the channel's signal once the answer
 * is posted.
 * - `resolve`: where `specifier`, imported (or required, `require: true`) by the plugin-owned
 *   module `parent` (a URL), leads;
 * - `load`: the source of the plugin-owned module `url` (for a `require` when `require`), as the
 *   host read, checked and compiled it;
 * - `resolved`: Node resolved `specifier` (one the host left to it: a package.json `imports` or a
 *   package's own name) to the plugin-owned `url`; the host answers with the `url` the version keeps
 *   for it, the first one any of its workers met, so every worker and restart resolves it alike.
 */
export type ModuleRequest =
  | {
      readonly seq: number;
      readonly op: 'resolve';
      readonly specifier: string;
      readonly parent: string;
      readonly require: boolean;
    }
  | { readonly seq: number; readonly op: 'load'; readonly url: string; readonly require: boolean }
  | {
      readonly seq: number;
      readonly op: 'resolved';
      readonly specifier: string;
      readonly parent: string;
      readonly require: boolean;
      readonly url: string;
    };

/** How the host hands a module over: Node's format names. */
export type ModuleFormat = 'module' | 'commonjs' | 'json';

/**
 * Host → worker, the answer to the {@link ModuleRequest} with the same `seq`:
 * - `url`: the module the specifier leads to (plugin-owned modules come from the host next);
 * - `next`: not the host's to resolve (a package, a built-in): Node resolves it as usual;
 * - `format` and `source`: the module's JavaScript (TypeScript already compiled, with a source map);
 * - `error`: the import fails with this code and message (`GLEAN_OUTSIDE_ROOT`, `ERR_MODULE_NOT_FOUND`, …).
 *
 * An answer to an `import` (not a `require`) that gives a `url` or a module's source may carry
 * {@link ModulesAhead} (protocol 10): what the worker is about to ask next, answered before it asks.
 */
export type ModuleAnswer =
  | { readonly seq: number; readonly url: string; readonly ahead?: ModulesAhead }
  | { readonly seq: number; readonly next: true }
  | { readonly seq: number; readonly format: ModuleFormat; readonly source: string; readonly ahead?: ModulesAhead }
  | { readonly seq: number; readonly error: { readonly code: string; readonly message: string } };

/**
 * Host → worker, with a {@link ModuleAnswer}: the answers to requests the worker's module hooks are
 * about to make, sent before they make them. When the host serves an ES module (or resolves an
 * `import` to one), it knows the module's static imports, which Node resolves and loads before it
 * evaluates anything: it resolves each (and each of theirs, through the static graph), reads, checks
 * and compiles the plugin-owned modules they lead to, and sends what succeeded, each once per worker.
 * The hooks answer a resolve or load from here, without a round trip, and forget the entry as they
 * use it; what is not here (it failed on the host, or did not fit in one answer) they ask for.
 */
export interface ModulesAhead {
  /**
   * Resolutions of static `import`s: `[specifier, parent, url]`, what the host answers a `resolve`
   * of `specifier` imported (not required) by `parent`; `url` `null` for `next` (Node's to resolve).
   */
  readonly resolutions: readonly (readonly [specifier: string, parent: string, url: string | null])[];
  /** Plugin-owned modules: `[url, format, source]`, what the host answers a `load` of `url`. */
  readonly modules: readonly (readonly [url: string, format: ModuleFormat, source: string])[];
}

/** The specifier plugins import glean's worker API by (`onDispose`, `transfer`): the worker's hooks give it the runtime's own module, never asking the host. */
export const RUNTIME_SPECIFIER = '@glean/worker';

/**
 * Whether the worker's module hooks ask the host to resolve `specifier` from a plugin-owned module:
 * not for glean's own runtime ({@link RUNTIME_SPECIFIER}), a built-in, or a `data:` or other non-file
 * URL, which Node resolves. Host and worker decide by this one rule (the host sends ahead only what
 * the worker asks for).
 */
export function asksHost(specifier: string): boolean {
  return (
    specifier !== RUNTIME_SPECIFIER &&
    !isBuiltin(specifier) &&
    !(/^[a-z][a-z0-9+.-]*:/i.test(specifier) && !specifier.startsWith('file:'))
  );
}

/** The longest specifier a module request may carry: 4 KiB, beyond any path a file system takes. */
export const MAX_SPECIFIER_LENGTH = 4096;

/**
 * Whether the module at `url` is plugin-owned: a `file:` URL inside `root` (a `file:` URL without
 * a trailing slash, as in {@link ServeTask.root}) with no `node_modules` folder between the root and
 * the file, whatever its query or fragment. Host and worker decide by this one rule.
 */
export function isPluginOwned(url: string, root: string): boolean {
  if (!url.startsWith(`${root}/`)) return false;
  // A query or fragment makes another module instance of the same file (`./x.js?v=2`): still the plugin's.
  const rest = url.slice(root.length + 1).replace(/[?#].*$/s, '');
  return !rest.split('/').includes('node_modules');
}

/** What the host makes of anything that arrives on a module channel: the request, every field checked, or `undefined`. */
export function checkModuleRequest(message: unknown): ModuleRequest | undefined {
  if (!isRecord(message) || !isCallId(message['seq'])) return undefined;
  const keys = Object.keys(message).length;
  if (message['op'] === 'load')
    return isBoundedString(message['url']) && typeof message['require'] === 'boolean' && keys === 4
      ? (message as unknown as ModuleRequest)
      : undefined;
  const resolving =
    isBoundedString(message['specifier']) &&
    isBoundedString(message['parent']) &&
    typeof message['require'] === 'boolean';
  if (message['op'] === 'resolve') return resolving && keys === 5 ? (message as unknown as ModuleRequest) : undefined;
  if (message['op'] === 'resolved')
    return resolving && isBoundedString(message['url']) && keys === 6
      ? (message as unknown as ModuleRequest)
      : undefined;
  return undefined;
}

function isBoundedString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_SPECIFIER_LENGTH;
}

/** The structural part of `node:worker_threads` MessagePort the protocol relies on. */
export interface MessagePortLike {
  postMessage(value: unknown, transferList?: readonly unknown[]): void;
}

/**
 * Main → worker, the only message the worker takes on the call port: call the export `name` (or its
 * method `member`, `null` for the export itself) with `args`. `specials` is there only when an argument
 * holds a value structured clone would change (a URL, a Buffer, an Error…): `args` is then encoded,
 * and {@link Specials} says how to read it (`@glean/worker/values`).
 */
export type CallMessage =
  | readonly [id: number, name: string, member: string | null, args: readonly unknown[]]
  | readonly [id: number, name: string, member: string | null, args: readonly unknown[], specials: Specials];

/**
 * Worker → main: the call `id` returned `value`. The only array the worker posts on the call port.
 * With a third element the value is encoded (it holds a URL, a Buffer, an Error…; see {@link Specials}).
 */
export type ResultMessage =
  | readonly [id: number, value: unknown]
  | readonly [id: number, value: unknown, specials: Specials];

/**
 * The placeholders an encoded value holds, each in the place of a value structured clone would change
 * (`{ t: 'url', href }`, `{ t: 'buffer', bytes }`, `{ t: 'error', error }`…), found again by identity,
 * which structured clone keeps within a message. Written and read by `@glean/worker/values` alone;
 * what arrives from a worker is read as untrusted (a malformed one fails that call `GLEAN_NOT_CLONEABLE`).
 */
export type Specials = readonly object[];

/** Worker → main: the call `id` failed. `specials` as for {@link ResultMessage}, when the error's properties hold such values. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly id: number;
  readonly error: WireFailure;
  readonly specials?: Specials;
}

/**
 * Worker → main, once, first: the worker's thread id and the protocol it speaks. It is the first
 * message the worker posts on the call port (sequence number 1, see {@link ControlApi.replyAt}). Its
 * shape stays the same from protocol 4 on, so a host can always tell a worker of another version.
 */
export interface HelloMessage {
  readonly type: 'hello';
  readonly threadId: number;
  /** The worker's {@link PROTOCOL_VERSION}. */
  readonly protocol: number;
}

export type ReplyMessage = ResultMessage | ErrorMessage;

/**
 * Worker → main: the call `id` returned an async iterable (an async generator, a `ReadableStream`, a
 * Node `Readable`), now the open stream `id`. With `key` `null` the result is the stream itself;
 * otherwise it is `value` (a plain object) with the stream as its property `key`, as an
 * `HttpResponse`'s `body`. Nothing of the iterable runs before the host's first {@link PullMessage}.
 */
export interface StreamMessage {
  readonly type: 'stream';
  readonly id: number;
  readonly key: string | null;
  readonly value: unknown;
  /** As for {@link ResultMessage}: `value` is encoded (it holds a URL, a Buffer, an Error…). */
  readonly specials?: Specials;
}

/** Worker → main: the next items of the stream `id`, in order; never more than the host granted and has not received. */
export interface ItemsMessage {
  readonly type: 'items';
  readonly id: number;
  readonly items: readonly unknown[];
  /** As for {@link ResultMessage}: `items` (the list as a whole) is encoded. */
  readonly specials?: Specials;
}

/**
 * Worker → main: the stream `id` is over: its iterator said `done`, or, after a {@link CancelMessage},
 * its `return()` settled (a generator's `finally` has run). Its failure is an {@link ErrorMessage} instead.
 */
export interface EndMessage {
  readonly type: 'end';
  readonly id: number;
}

/** Everything about streams the worker posts on the call port. */
export type StreamReply = StreamMessage | ItemsMessage | EndMessage;

/** Main → worker: the stream `id` may send `n` more items. */
export interface PullMessage {
  readonly type: 'pull';
  readonly id: number;
  readonly n: number;
}

/** Main → worker: the host wants no more of the stream `id`: call its iterator's `return()`, then say {@link EndMessage}. */
export interface CancelMessage {
  readonly type: 'cancel';
  readonly id: number;
}

/** Everything the host posts on the call port: calls (tuples), and what steers streams (objects). */
export type HostMessage = CallMessage | PullMessage | CancelMessage;

/** Everything the worker posts on the call port. */
export type WorkerMessage = HelloMessage | ReplyMessage | StreamReply;

/** The longest property name a {@link StreamMessage} may put its stream under. */
export const MAX_STREAM_KEY_LENGTH = 1024;

/** Whether a call-port message from the worker is a result (the tuple), not an error or the hello. */
export function isResult(message: WorkerMessage): message is ResultMessage {
  return Array.isArray(message);
}

/**
 * What the main thread makes of anything that arrives on a call port. Plugin code shares the worker
 * with glean's runtime and can reach its ports, so a message is only taken for what its shape says
 * after every field was checked: the hot path's result tuple costs two tests.
 */
export function checkWorkerMessage(message: unknown): WorkerMessage | undefined {
  if (Array.isArray(message))
    return isCallId(message[0]) && (message.length === 2 || (message.length === 3 && Array.isArray(message[2])))
      ? (message as unknown as ResultMessage)
      : undefined;
  if (message === null || typeof message !== 'object') return undefined;
  const { type } = message as { type?: unknown };
  if (type === 'hello') {
    const { threadId, protocol } = message as { threadId?: unknown; protocol?: unknown };
    return Number.isSafeInteger(threadId) && Number.isSafeInteger(protocol) && Object.keys(message).length === 3
      ? (message as HelloMessage)
      : undefined;
  }
  if (type === 'error') {
    const { id, error, specials } = message as { id?: unknown; error?: unknown; specials?: unknown };
    const keys = specials === undefined ? 3 : Array.isArray(specials) ? 4 : -1;
    return isCallId(id) && isWireFailure(error) && Object.keys(message).length === keys
      ? (message as ErrorMessage)
      : undefined;
  }
  return checkStreamReply(message as Record<string, unknown>, type);
}

function checkStreamReply(message: Record<string, unknown>, type: unknown): StreamReply | undefined {
  if (!isCallId(message['id'])) return undefined;
  const { specials } = message;
  // An encoded value's placeholders come as one more field, a list (checked as it is read, values.ts).
  const keys = Object.keys(message).length - (specials === undefined ? 0 : Array.isArray(specials) ? 1 : 99);
  if (type === 'items') {
    const { items } = message;
    return Array.isArray(items) && items.length > 0 && keys === 3 ? (message as unknown as ItemsMessage) : undefined;
  }
  if (type === 'end') return keys === 2 && specials === undefined ? (message as unknown as EndMessage) : undefined;
  if (type === 'stream') {
    const { key, value } = message;
    const whole = key === null && value === null;
    const part = typeof key === 'string' && key.length <= MAX_STREAM_KEY_LENGTH && isRecord(value);
    return (whole || part) && keys === 4 ? (message as unknown as StreamMessage) : undefined;
  }
  return undefined;
}

function isCallId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether `value` is a {@link WireFailure}, every field of the right type. */
export function isWireFailure(value: unknown): value is WireFailure {
  if (!isRecord(value)) return false;
  switch (value['reason']) {
    case 'thrown':
      return isSerializedError(value['error']);
    case 'not-found':
    case 'not-cloneable':
    case 'class-export':
      return isString(value['message']);
    case 'load-failed':
      return isString(value['message']) && isSerializedError(value['error']);
    default:
      return false;
  }
}

/** Whether `value` is a {@link SerializedError}, causes included (at most {@link MAX_CAUSES} deep). */
export function isSerializedError(value: unknown, depth = 0): value is SerializedError {
  if (!isRecord(value) || depth > MAX_CAUSES) return false;
  const { isError, name, message, stack, props, cause, className, errors } = value;
  return (
    typeof isError === 'boolean' &&
    isString(name) &&
    isString(message) &&
    (stack === undefined || isString(stack)) &&
    isRecord(props) &&
    (cause === undefined || isSerializedError(cause, depth + 1)) &&
    (className === undefined || isString(className)) &&
    (errors === undefined || (Array.isArray(errors) && errors.every((error) => isSerializedError(error, depth + 1))))
  );
}

/** Whether `value` is an {@link ExportDescription}. */
export function isExportDescription(value: unknown): value is ExportDescription {
  if (!isRecord(value) || !isString(value['name'])) return false;
  switch (value['kind']) {
    case 'function':
      return true;
    case 'object':
      return (
        Array.isArray(value['methods']) &&
        value['methods'].every(isString) &&
        (value['lifecycle'] === undefined || (Array.isArray(value['lifecycle']) && value['lifecycle'].every(isString)))
      );
    case 'value':
      return 'value' in value && (value['specials'] === undefined || Array.isArray(value['specials']));
    default:
      return false;
  }
}

/** Whether `value` is a {@link DescribeResult}. */
export function isDescribeResult(value: unknown): value is DescribeResult {
  if (!isRecord(value)) return false;
  return value['ok'] === true
    ? isExportDescription(value['description'])
    : value['ok'] === false && isWireFailure(value['failure']);
}

/** Whether `value` is a {@link LoadResult}. */
export function isLoadResult(value: unknown): value is LoadResult {
  if (!isRecord(value)) return false;
  if (value['ok'] === false) return isWireFailure(value['failure']);
  return value['ok'] === true && Array.isArray(value['descriptions']) && value['descriptions'].every(isDescribeResult);
}

/**
 * Why a worker-side operation failed, as data. `thrown` is what the plugin threw;
 * the other reasons are glean's own and become `GleanError`s with a code on the main thread.
 */
export type WireFailure =
  | { readonly reason: 'thrown'; readonly error: SerializedError }
  | { readonly reason: 'not-found'; readonly message: string }
  | { readonly reason: 'not-cloneable'; readonly message: string }
  /** The export (or a method of an object export) is a class, which a handle cannot call: refused at load. */
  | { readonly reason: 'class-export'; readonly message: string }
  | { readonly reason: 'load-failed'; readonly message: string; readonly error: SerializedError };

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
  | {
      readonly kind: 'object';
      readonly name: string;
      readonly methods: readonly string[];
      /**
       * Members left out of `methods` because they are the plugin's lifecycle hooks (`dispose`, when
       * this object is the CommonJS `module.exports` the hook is found on): no handle calls them, and
       * `findAll` matches them only when named.
       */
      readonly lifecycle?: readonly string[];
    }
  /** `specials` when the snapshot is encoded (it holds a URL, a Buffer…), as for {@link ResultMessage}. */
  | { readonly kind: 'value'; readonly name: string; readonly value: unknown; readonly specials?: Specials };

/** Answer of {@link ControlApi.describe}. */
export type DescribeResult =
  | { readonly ok: true; readonly description: ExportDescription }
  | { readonly ok: false; readonly failure: WireFailure };

/**
 * Answer of {@link ControlApi.dispose}: the plugin's cleanup ran (`dispose`, then `onDispose`
 * functions); `error` is what it threw (an `AggregateError` when several did).
 */
export type DisposeResult = { readonly ok: true } | { readonly ok: false; readonly error: SerializedError };

/** Whether `value` is a {@link DisposeResult}. */
export function isDisposeResult(value: unknown): value is DisposeResult {
  if (!isRecord(value)) return false;
  return value['ok'] === true || (value['ok'] === false && isSerializedError(value['error']));
}

/** Answer of {@link ControlApi.load}. */
export type LoadResult =
  | { readonly ok: true; readonly descriptions: readonly DescribeResult[] }
  | { readonly ok: false; readonly failure: WireFailure };

/** The worker's control surface, served over the control port with comlink. Every method returns a promise on the main side. */
export interface ControlApi {
  /**
   * A round trip, nothing more: the first message a thread receives on a port costs it one-time
   * setup, which a worker started ahead of time pays before its plugin comes.
   */
  prepare(): void;
  /**
   * Imports the plugin file (absolute real path), once per worker, and describes the exports `names`
   * in the same round trip. Every plugin-owned module, this file first, comes from the host over the
   * module channels (see {@link ModuleRequest}); `commonJS` says how the host loads the file, which
   * decides where its exports are looked up. `env` becomes the worker's `process.env` first: the
   * variables of the version, as they were when it started, even in a thread started ahead of time.
   */
  load(
    file: string,
    commonJS: boolean,
    names: readonly string[],
    env: Readonly<Record<string, string>>,
  ): LoadResult | Promise<LoadResult>;
  /** Looks up the export `name` and says what it is; a value export's snapshot travels in the answer. */
  describe(name: string): DescribeResult;
  /** Answers at once if the worker's event loop is free. */
  ping(): number;
  /**
   * Runs the plugin's cleanup, once per worker: the plugin file's `dispose` export, then every
   * function registered with `onDispose`, last registered first, each awaited. Later asks answer as
   * the first did. The host bounds it by `disposeTimeoutMs`, then ends the thread either way.
   */
  dispose(): Promise<DisposeResult>;
  /**
   * The call id of the `seq`-th message this worker posted on the call port (the hello is 1), while it
   * is among the last {@link REPLY_LOG_SIZE}; `0` for the hello, `undefined` when forgotten. The host
   * asks when a message arrived that it could not read (`messageerror`), to reject that call alone.
   */
  replyAt(seq: number): number | undefined;
}

/** How many of its latest call-port messages a worker remembers for {@link ControlApi.replyAt}. */
export const REPLY_LOG_SIZE = 16_384;

/**
 * An error as plain data. Structured clone keeps only `message`, `name`-less Error and `stack`,
 * and drops `code`, custom class names and extra properties; this keeps them.
 */
export interface SerializedError {
  readonly isError: boolean;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable properties (`code`, `status`, …) that can be carried. */
  readonly props: Readonly<Record<string, unknown>>;
  readonly cause: SerializedError | undefined;
  /**
   * The constructor's name, unless it is the built-in class `name` says (`class HttpError extends Error {}`
   * keeps the name `Error`, and its class is told by this).
   */
  readonly className?: string;
  /** An `AggregateError`'s `errors`, each serialized (at most {@link MAX_CAUSES} deep). */
  readonly errors?: readonly SerializedError[];
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
  AggregateError: AggregateError as unknown as ErrorConstructor,
};

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** How many `cause`s deep an error is carried; deeper ones are cut. */
export const MAX_CAUSES = 8;

/** `read()`, or `fallback` when it throws: plugin values may have getters and Proxy traps that do. */
function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * Turns anything thrown into {@link SerializedError}, keeping name, message, stack, `code`, other own
 * properties and `cause`. Never throws, whatever the value: a getter or a Proxy trap that throws
 * costs that field only.
 */
export function serializeError(
  thrown: unknown,
  depth = 0,
  keep: (value: unknown) => boolean = cloneable,
): SerializedError {
  if (!attempt(() => thrown instanceof Error, false)) {
    const plain = keep(thrown);
    return {
      isError: false,
      name: attempt(() => typeof thrown, 'object'),
      message: describeValue(thrown),
      stack: undefined,
      props: {},
      cause: undefined,
      ...(plain ? { value: thrown } : {}),
    };
  }
  const error = thrown as Error & Record<string, unknown>;
  const props: Record<string, unknown> = {};
  for (const key of attempt(() => Object.keys(error), [])) {
    if (key === 'cause') continue;
    const value = attempt(() => error[key], undefined);
    if (keep(value)) Object.defineProperty(props, key, { value, enumerable: true, writable: true, configurable: true });
  }
  const text = (read: () => unknown, fallback: string): string =>
    attempt(() => {
      const value = read();
      return typeof value === 'string' ? value : fallback;
    }, fallback);
  const cause = attempt(() => ('cause' in error ? error.cause : undefined), undefined);
  const name = text(() => error.name, 'Error');
  const className = text(() => (error.constructor as { name?: unknown } | undefined)?.name, name);
  const errors = attempt(
    () =>
      error instanceof AggregateError && Array.isArray(error.errors) && depth < MAX_CAUSES
        ? (error.errors as unknown[]).map((each) => serializeError(each, depth + 1, keep))
        : undefined,
    undefined,
  );
  return {
    isError: true,
    name,
    message: text(() => error.message, ''),
    stack: attempt(() => (typeof error.stack === 'string' ? error.stack : undefined), undefined),
    props,
    cause: cause !== undefined && depth < MAX_CAUSES ? serializeError(cause, depth + 1, keep) : undefined,
    // A built-in class under its own name is rebuilt as itself; any other class travels by name.
    ...(className !== '' && !(className === name && Object.hasOwn(BUILTIN_ERRORS, name)) ? { className } : {}),
    ...(errors !== undefined ? { errors } : {}),
  };
}

/** Rebuilds an Error from {@link SerializedError}: the same name, class name, message, stack, `code`, own properties, cause and `errors`. */
export function deserializeError(data: SerializedError): Error {
  return fillError(errorShell(data), data);
}

/**
 * The first half of {@link deserializeError}: the Error of the right class, with its name, message and
 * stack, but none of its properties, cause or `errors` yet. Apart so that a value whose properties lead
 * back to the error itself can be rebuilt (`@glean/worker/values`).
 */
export function errorShell(data: SerializedError): Error {
  let error: Error;
  if (data.className === 'DOMException' && typeof DOMException === 'function') {
    // Its name is read from the instance's internal slot, and decides its `code`.
    error = new DOMException(data.message, data.name);
  } else {
    // Own properties only: a plugin may name its error "hasOwnProperty" or "__proto__".
    const base = Object.hasOwn(BUILTIN_ERRORS, data.name)
      ? BUILTIN_ERRORS[data.name]!
      : data.className !== undefined && Object.hasOwn(BUILTIN_ERRORS, data.className)
        ? BUILTIN_ERRORS[data.className]!
        : Error;
    const Ctor = data.className === undefined || data.className === base.name ? base : namedClass(base, data.className);
    error =
      base === (AggregateError as unknown) || base.prototype instanceof AggregateError
        ? new (Ctor as unknown as AggregateErrorConstructor)([], data.message)
        : new Ctor(data.message);
    if (error.name !== data.name) {
      Object.defineProperty(error, 'name', { value: data.name, configurable: true, writable: true, enumerable: false });
    }
  }
  Object.defineProperty(error, 'stack', { value: data.stack, configurable: true, writable: true, enumerable: false });
  return error;
}

/** The second half of {@link deserializeError}: `data`'s own properties, cause and `errors` onto `error`. */
export function fillError(error: Error, data: SerializedError): Error {
  // Defined, not assigned: a property named "__proto__" must stay a property, not replace the prototype.
  for (const [key, value] of Object.entries(data.props)) {
    Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable: true });
  }
  if (data.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: rebuilt(data.cause),
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  if (data.errors !== undefined) {
    Object.defineProperty(error, 'errors', {
      value: data.errors.map(rebuilt),
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  return error;
}

function rebuilt(data: SerializedError): unknown {
  return data.isError ? deserializeError(data) : (data.value ?? data.message);
}

/** Classes made for errors whose class is not a built-in one, by base and name: bounded, since names come from workers. */
const NAMED_CLASSES = new Map<string, ErrorConstructor>();
const MAX_NAMED_CLASSES = 256;

/**
 * A subclass of `base` named `name`, so that a rebuilt error's `constructor.name` is its class's
 * (`HttpError`) while `instanceof` its built-in base still holds. A name that is no identifier keeps `base`.
 */
function namedClass(base: ErrorConstructor, name: string): ErrorConstructor {
  if (!/^[A-Za-z_$][\w$]{0,127}$/.test(name)) return base;
  const key = `${base.name} ${name}`;
  let made = NAMED_CLASSES.get(key);
  if (made === undefined) {
    // The class takes its name from the key it is defined under.
    made = { [name]: class extends base {} }[name] as ErrorConstructor;
    if (NAMED_CLASSES.size < MAX_NAMED_CLASSES) NAMED_CLASSES.set(key, made);
  }
  return made;
}

/** What went wrong, for a message: an Error's message, or a safe rendering of anything else thrown. Never throws. */
export function describeThrown(thrown: unknown): string {
  return serializeError(thrown).message || describeValue(thrown);
}

/** A short, safe rendering of any value for an error message. */
export function describeValue(value: unknown): string {
  return attempt(() => describeAny(value), 'a value that cannot be described');
}

function describeAny(value: unknown): string {
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

/** The transferables marked on any argument, or `undefined` (the common case: nothing to scan further). */
export function transferListOf(args: readonly unknown[]): never[] | undefined {
  let list: unknown[] | undefined;
  for (const arg of args) {
    const moved = transferablesOf(arg);
    if (moved !== undefined) {
      list ??= [];
      list.push(...moved);
    }
  }
  return list as never[] | undefined;
}

/** Whether a MessagePort sits anywhere in `value` (searched 32 levels deep, 10,000 values at most). */
export function carriesPort(value: unknown): boolean {
  let budget = 10_000;
  const visit = (node: unknown, depth: number): boolean => {
    if (node === null || typeof node !== 'object' || depth > 32 || --budget < 0) return false;
    if (node instanceof MessagePort) return true;
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) return false;
    const children =
      node instanceof Map ? [...node.keys(), ...node.values()] : node instanceof Set ? [...node] : Object.values(node);
    return children.some((child) => visit(child, depth + 1));
  };
  return visit(value, 0);
}

/**
 * Worker → host, on the control port beside comlink's answers (which comlink tells apart by their
 * `id`; these have none): what the host needs to end the worker's child processes when the thread
 * cannot (see docs/architecture.md, "Child processes").
 * - `thread`: the worker's OS thread id (0 when it cannot tell), posted by glean's runtime before
 *   any plugin code runs, so it is the first of these on the port: the host takes the first alone;
 * - `child`: plugin code started the child process `pid` in this thread. Untrusted like every
 *   message: the host keeps it only if `/proc` lists `pid` as a child of that thread.
 */
export type ChildReport =
  | { readonly type: 'thread'; readonly tid: number }
  | { readonly type: 'child'; readonly pid: number };

/**
 * What the host makes of a control-port message: a {@link ChildReport}, every field checked;
 * `'malformed'` for a message tagged as one that is not; `undefined` for anything else (comlink's).
 */
export function checkChildReport(message: unknown): ChildReport | 'malformed' | undefined {
  if (!isRecord(message)) return undefined;
  const type = message['type'];
  if (type !== 'thread' && type !== 'child') return undefined;
  const value = message[type === 'thread' ? 'tid' : 'pid'];
  return Object.keys(message).length === 2 &&
    Number.isSafeInteger(value) &&
    (value as number) >= (type === 'thread' ? 0 : 1)
    ? (message as unknown as ChildReport)
    : 'malformed';
}
