import type { ConfigIssue } from './config/issues.js';

/**
 * Every error glean raises is a {@link GleanError} with a stable `code` from this table.
 * Match on `code`, never on message text: messages may gain detail between releases.
 *
 * This table is the source of what each code means: each entry says when it is raised and, after
 * `Do:`, what to do. docs/errors.md has the same words in its table of codes (test/error-codes.test.ts
 * checks that they agree, that every code is raised somewhere, and that the docs name no other).
 */
export const ErrorCode = {
  /**
   * The config file is not JSON (empty, half-written) or not a valid config (wrong types, missing or unknown keys,
   * duplicate ids, options out of range); `error.issues` lists every problem as data.
   * Do: Fix the file; the running versions keep serving.
   */
  CONFIG_INVALID: 'GLEAN_CONFIG_INVALID',
  /**
   * The config file cannot be read: missing, a folder, no permission, a symlink loop, not a regular file (a FIFO,
   * a device), or over 16 MiB; also emitted when watching it fails.
   * Do: Fix the path or the permissions; the running versions keep serving.
   */
  CONFIG_UNREADABLE: 'GLEAN_CONFIG_UNREADABLE',
  /**
   * The id is not (or no longer) in the config; or a method was used before `loadConfig()`.
   * Do: Check the id, or call `loadConfig()` first; a live handle of a removed id works again when the id comes
   * back.
   */
  NOT_CONFIGURED: 'GLEAN_NOT_CONFIGURED',
  /**
   * `glean.rollback(id)` or `glean.hold(id)` for an id that runs no canary now (none configured, or already
   * rolled back).
   * Do: Check `status()[id].canary`; a canary starts from the config's `canary` key.
   */
  NO_CANARY: 'GLEAN_NO_CANARY',
  /**
   * A plugin version failed to load: its file is unreadable (or not a regular file, or over 64 MiB) or not a
   * module, it threw while imported or was still importing after `loadTimeoutMs`, or its worker died while loading
   * or could not start.
   * Do: Fix the plugin; after a failed reload the old version keeps serving.
   */
  LOAD_FAILED: 'GLEAN_LOAD_FAILED',
  /**
   * The plugin file has no export of the configured `name`, or an object handle was called with a method its
   * export lacks; the message lists what exists.
   * Do: Fix `name` in the config (`default` for a default export), or the method name.
   */
  SYMBOL_NOT_FOUND: 'GLEAN_SYMBOL_NOT_FOUND',
  /**
   * A new version's export is of another kind (function, object, value) than the one its handles serve, and the
   * reload is refused; or a handle is used after its id came back with an export of another kind.
   * Do: Keep the export's kind, or give the new export a new id.
   */
  KIND_CHANGED: 'GLEAN_KIND_CHANGED',
  /**
   * The export a config entry names, or a method of an object export, is a class: a handle calls its export, and a
   * class cannot be called without `new`; the load is refused.
   * Do: Export an instance of the class (a handle calls its methods), or a function that makes and uses one.
   */
  CLASS_EXPORT: 'GLEAN_CLASS_EXPORT',
  /**
   * The worker running the call died (`process.exit`, an uncaught exception, out of memory) or was terminated as
   * unresponsive or for breaking glean's protocol (posting on or closing glean's ports); every call in flight on
   * it rejects; `exitCode` when it exited.
   * Do: Retry if the call is idempotent; the worker is being replaced.
   */
  PLUGIN_CRASHED: 'GLEAN_PLUGIN_CRASHED',
  /**
   * The plugin threw (or rejected with) something that is not an Error; the value is on `error.thrown` when it can
   * be copied.
   * Do: Treat it as the plugin's answer; better, make the plugin throw Errors.
   */
  PLUGIN_THREW: 'GLEAN_PLUGIN_THREW',
  /**
   * The call ran, or waited for a worker, longer than its `timeoutMs`; or a streamed result waited that long for its next item, or was not read for `STREAM_IDLE_TIMEOUT_MS`.
   * Do: Retry if the call is idempotent (it may have run), or raise `timeoutMs`.
   */
  TIMEOUT: 'GLEAN_TIMEOUT',
  /**
   * The call's `signal` (see `withOptions`) aborted before the call settled; the signal's reason is the `cause`.
   * Do: Nothing: the caller asked for it.
   */
  ABORTED: 'GLEAN_ABORTED',
  /**
   * The call was still running (or waiting for a worker, or its streamed result still open) `drainTimeoutMs` after its version stopped being current;
   * the version's workers were terminated.
   * Do: Retry on the current version if the call is idempotent; raise `drainTimeoutMs` for long calls.
   */
  DRAIN_TIMEOUT: 'GLEAN_DRAIN_TIMEOUT',
  /**
   * An argument, a result or a value export holds what cannot cross threads as it is: a function, a symbol, a class
   * instance, a Promise, a property added to a Map, Set, Date or RegExp, a throwing getter, a value nested too
   * deeply to read; the message names its place.
   * Do: Send and return plain data (README, "Values: what a call's arguments and result become").
   */
  NOT_CLONEABLE: 'GLEAN_NOT_CLONEABLE',
  /**
   * No worker of the version could take the call and `maxQueue` calls were already waiting.
   * Do: Shed load or retry later; raise `maxQueue`, `concurrency` or `threads`.
   */
  QUEUE_FULL: 'GLEAN_QUEUE_FULL',
  /**
   * The version is `failed`: its workers crashed more than `CRASH_LIMIT` times within `CRASH_WINDOW_MS`, or one
   * crashed after its file changed on disk and none is left.
   * Do: Fix the plugin; a config or plugin-file change, or `reloadConfig()`, replaces the failed version.
   */
  UNAVAILABLE: 'GLEAN_UNAVAILABLE',
  /**
   * The handle was released; it takes no more calls.
   * Do: Get a new handle.
   */
  RELEASED: 'GLEAN_RELEASED',
  /**
   * The Glean instance was closed.
   * Do: Nothing: make a new `Glean`.
   */
  CLOSED: 'GLEAN_CLOSED',
  /**
   * A plugin's cleanup (its `dispose` export, or a function registered with `onDispose`) threw, rejected, or was
   * still running `disposeTimeoutMs` after it began, in one worker of a version that was ending (retired, closed,
   * or replaced while alive); the plugin's error is the `cause`. The worker ended anyway; no call failed.
   * Do: Fix the plugin's cleanup, or raise `disposeTimeoutMs`.
   */
  DISPOSE_FAILED: 'GLEAN_DISPOSE_FAILED',
  /**
   * The config (or `loadSymbol`) names `dispose`, the export glean calls as the plugin's cleanup when its workers
   * end; no handle may call it.
   * Do: Name another export; keep `dispose` for cleanup.
   */
  RESERVED_EXPORT: 'GLEAN_RESERVED_EXPORT',
  /**
   * The worker runtime speaks another protocol version than the core: `@glean/core` and `@glean/worker` are of
   * different releases.
   * Do: Install matching versions of `@glean/core` and `@glean/worker`.
   */
  PROTOCOL_MISMATCH: 'GLEAN_PROTOCOL_MISMATCH',
  /**
   * The plugin file, or a module a plugin imports by path (or through tsconfig `paths` or package.json `imports`),
   * once every symlink is followed, is not inside the root plugins may load from; the message names the file (and
   * the importing file and specifier), its real path and the root.
   * Do: Move the file under the root, or widen `root`.
   */
  OUTSIDE_ROOT: 'GLEAN_OUTSIDE_ROOT',
  /**
   * A plugin file's bytes match none of the `integrity` values configured for it, or a plugin-owned module's bytes
   * are not those the lockfile lists; the message names the file, the expected and the actual value (and the
   * lockfile).
   * Do: Deploy the files the config and the lockfile name, or update `integrity` (`npx glean hash <file>`) or the
   * lockfile (`npx glean lock <config>`).
   */
  INTEGRITY_MISMATCH: 'GLEAN_INTEGRITY_MISMATCH',
  /**
   * `requireIntegrity` is on and a plugin file has no `integrity` (in the config or the lockfile), or another
   * plugin-owned module is not in a lockfile; or a lockfile is in use and does not list a module.
   * Do: Add it (`npx glean hash <file>` prints the value), or write the lockfile (`npx glean lock <config>`).
   */
  INTEGRITY_REQUIRED: 'GLEAN_INTEGRITY_REQUIRED',
  /**
   * HTTP adapters: the request body is over `bodyLimit`; answered 413 without calling the handler.
   * Do: Send less, or raise `bodyLimit`.
   */
  HTTP_BODY_TOO_LARGE: 'GLEAN_HTTP_BODY_TOO_LARGE',
  /**
   * HTTP adapters: the request ended (or failed) before its body was read whole; nothing is answered.
   * Do: Nothing: the client is gone.
   */
  HTTP_BODY_INCOMPLETE: 'GLEAN_HTTP_BODY_INCOMPLETE',
  /**
   * HTTP adapters: another middleware already parsed the body into something that is not bytes or text; answered
   * 500.
   * Do: Mount glean's handler before body parsers, or on a route of its own.
   */
  HTTP_BODY_UNAVAILABLE: 'GLEAN_HTTP_BODY_UNAVAILABLE',
  /**
   * HTTP adapters: the handler returned something that is not an `HttpResponse` (a bad status, header or body);
   * answered 500.
   * Do: Fix the handler to return `{ status, headers, body }`.
   */
  HTTP_INVALID_RESPONSE: 'GLEAN_HTTP_INVALID_RESPONSE',
} as const;

/** One of the {@link ErrorCode} values, such as `'GLEAN_TIMEOUT'`. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra data a {@link GleanError} may carry, depending on its code. */
export interface GleanErrorOptions extends ErrorOptions {
  /** The plugin id the error concerns. */
  id?: string | undefined;
  /** The plugin file (absolute path) the error concerns. */
  file?: string | undefined;
  /** The plugin version text the error concerns. */
  version?: string | undefined;
  /** For `GLEAN_CONFIG_INVALID`: every problem found, at its place. */
  issues?: readonly ConfigIssue[] | undefined;
  /** For `GLEAN_PLUGIN_THREW`: the value the plugin threw. */
  thrown?: unknown;
  /** For `GLEAN_PLUGIN_CRASHED`: the worker's exit code, when it exited. */
  exitCode?: number | undefined;
}

/** The error class of everything glean itself rejects or emits. */
export class GleanError extends Error {
  override name = 'GleanError';
  /** Stable machine-readable code, one of {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** The plugin id concerned, when there is one. */
  readonly id: string | undefined;
  /** The plugin file concerned, when there is one. */
  readonly file: string | undefined;
  /** The plugin version concerned, when there is one. */
  readonly version: string | undefined;
  /** For `GLEAN_CONFIG_INVALID`: every problem, as data. */
  readonly issues: readonly ConfigIssue[] | undefined;
  /** For `GLEAN_PLUGIN_THREW`: the value the plugin threw. */
  readonly thrown: unknown;
  /** For `GLEAN_PLUGIN_CRASHED`: the worker's exit code, when it exited. */
  readonly exitCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: GleanErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.id = options.id;
    this.file = options.file;
    this.version = options.version;
    this.issues = options.issues;
    this.thrown = options.thrown;
    this.exitCode = options.exitCode;
  }
}

/** True when `error` is a {@link GleanError}, optionally of the given code. */
export function isGleanError(error: unknown, code?: ErrorCode): error is GleanError {
  return error instanceof GleanError && (code === undefined || error.code === code);
}
