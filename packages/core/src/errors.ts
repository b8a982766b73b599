import { describeValue } from '@glean/worker/protocol';
import type { ConfigIssue } from './config/issues.js';

/**
 * Every error glean raises is a {@link GleanError} with a stable `code` from this table.
 * Match on `code`, never on message text: messages may gain detail between releases.
 */
export const ErrorCode = {
  /** The config file's content is not valid JSON or does not match the schema. `error.issues` lists every problem. */
  CONFIG_INVALID: 'GLEAN_CONFIG_INVALID',
  /** The config file cannot be read: missing, a directory, no permission, a symlink loop, not a regular file (a FIFO, a device), or over 16 MiB. */
  CONFIG_UNREADABLE: 'GLEAN_CONFIG_UNREADABLE',
  /** The id is not (or no longer) in the config. */
  NOT_CONFIGURED: 'GLEAN_NOT_CONFIGURED',
  /** A plugin version failed to load: missing or unreadable file, not a regular file or over 64 MiB, syntax error, throw during import, import still pending after `loadTimeoutMs`, a worker that could not start. */
  LOAD_FAILED: 'GLEAN_LOAD_FAILED',
  /** The plugin file loaded but has no export (or method) of that name. The message lists what it has. */
  SYMBOL_NOT_FOUND: 'GLEAN_SYMBOL_NOT_FOUND',
  /** A new version's export is of another kind (function, object, value) than the one its handles serve. */
  KIND_CHANGED: 'GLEAN_KIND_CHANGED',
  /** The worker running the call died: `process.exit`, an uncaught exception, out of memory, or it was terminated as unresponsive or for breaking glean's protocol (plugin code posting on or closing glean's ports). */
  PLUGIN_CRASHED: 'GLEAN_PLUGIN_CRASHED',
  /** The plugin threw (or rejected with) something that is not an Error; the value is on `error.thrown`. */
  PLUGIN_THREW: 'GLEAN_PLUGIN_THREW',
  /** The call ran longer than its `timeoutMs`. */
  TIMEOUT: 'GLEAN_TIMEOUT',
  /** The call's `signal` (see `withOptions`) aborted before it settled; the signal's reason is the `cause`. */
  ABORTED: 'GLEAN_ABORTED',
  /** The call was still running on a retired version after `drainTimeoutMs`; its worker was terminated. */
  DRAIN_TIMEOUT: 'GLEAN_DRAIN_TIMEOUT',
  /** An argument or a result cannot cross a thread boundary (a function, a symbol, …). */
  NOT_CLONEABLE: 'GLEAN_NOT_CLONEABLE',
  /** More than `maxQueue` calls were already waiting for a worker of this version. */
  QUEUE_FULL: 'GLEAN_QUEUE_FULL',
  /** The version's workers kept crashing and it was marked `failed`; a config or plugin-file change brings it back. */
  UNAVAILABLE: 'GLEAN_UNAVAILABLE',
  /** The handle was released; it takes no more calls. */
  RELEASED: 'GLEAN_RELEASED',
  /** The Glean instance was closed. */
  CLOSED: 'GLEAN_CLOSED',
  /** The worker runtime speaks another protocol version than the core (mismatched @glean/core and @glean/worker). */
  PROTOCOL_MISMATCH: 'GLEAN_PROTOCOL_MISMATCH',
  /** The plugin file, after every symlink is followed, is not inside the root plugins may load from. The message names the file, its real path and the root. */
  OUTSIDE_ROOT: 'GLEAN_OUTSIDE_ROOT',
  /** The plugin file's bytes do not match the `integrity` configured for it. The message names the file, the expected and the actual value. */
  INTEGRITY_MISMATCH: 'GLEAN_INTEGRITY_MISMATCH',
  /** `requireIntegrity` is on and the plugin has no `integrity` configured. */
  INTEGRITY_REQUIRED: 'GLEAN_INTEGRITY_REQUIRED',
  /** HTTP adapters: the request body is over `bodyLimit`; answered 413 without calling the handler. */
  HTTP_BODY_TOO_LARGE: 'GLEAN_HTTP_BODY_TOO_LARGE',
  /** HTTP adapters: the request ended (or failed) before its body was read whole; the client is gone. */
  HTTP_BODY_INCOMPLETE: 'GLEAN_HTTP_BODY_INCOMPLETE',
  /** HTTP adapters: another middleware already parsed the body into something that is not bytes or text; answered 500. */
  HTTP_BODY_UNAVAILABLE: 'GLEAN_HTTP_BODY_UNAVAILABLE',
  /** HTTP adapters: the handler returned something that is not an `HttpResponse` (bad status, header or body); answered 500. */
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

/** `GLEAN_ABORTED` for a call whose signal aborted, with the signal's reason as `cause`. */
export function abortedError(
  where: string,
  context: { id: string; file: string; version: string },
  signal: AbortSignal,
): GleanError {
  const reason: unknown = signal.reason;
  const text = reason instanceof Error ? reason.message : describeValue(reason);
  return new GleanError(ErrorCode.ABORTED, `${where}: the call was aborted: ${text}`, { ...context, cause: reason });
}

/** How a plugin is named in messages: `plugin "FooHandlerID" (plugins/plugin1/index.ts@1.0)`. */
export function describePlugin(id: string | undefined, file: string, version: string): string {
  const shown = displayPath(file);
  const at = version === '' ? shown : `${shown}@${version}`;
  return id === undefined ? `plugin ${at}` : `plugin "${id}" (${at})`;
}

/** A path relative to the working folder when it is inside it, absolute otherwise. */
export function displayPath(file: string): string {
  const cwd = process.cwd();
  return file.startsWith(cwd + '/') ? file.slice(cwd.length + 1) : file;
}
