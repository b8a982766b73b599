import { transfer } from '@glean/worker/protocol';
import { callWithOptions, checkCallOptions, handleState } from '../handle.js';
import { Log, LogLine, errorFields } from '../log.js';
import type { Logger } from '../logger.js';
import type { HttpHandler, HttpRequest } from './contract.js';
import { statusOf } from './errors.js';
import {
  cancel,
  errorResponse,
  isPreparedStream,
  prepareResponse,
  type PreparedResponse,
  type PreparedStream,
} from './response.js';
import { openBody } from './stream.js';

/** Options of every HTTP adapter (`httpListener`, `expressHandler`, `fastifyHandler`, `gleanFastify`). */
export interface HttpAdapterOptions {
  /** Largest request body, in bytes; a larger one is answered 413 and never reaches the handler. Default 1 MiB (1 048 576), as Fastify's. */
  bodyLimit?: number;
  /** Seconds sent in the `Retry-After` header of a 503 for `GLEAN_QUEUE_FULL`. Default 1. */
  retryAfterSeconds?: number;
  /**
   * Where errors answered 5xx are written, stack and all (the client gets none of it). Default
   * `console`; `false` for silence; a logger with `child()` (pino) gets structured lines, as a Glean's
   * `logger` (README, "Logs"). `GLEAN_QUEUE_FULL` is not logged: under overload a line per shed
   * request would only add to the load; `onError` still sees it.
   */
  logger?: Logger | false;
  /** Called with every error answered 5xx, and what was answered. Default none. A throw in it is logged, never answered. */
  onError?: (error: unknown, context: HttpErrorContext) => void;
  /**
   * The routing key of a request, for an id with a canary: a user id header, a session cookie. Every
   * request with the same key goes to the same version at a given weight, on every replica (see the
   * README's "Gradual rollout"). Called before the handler, with the request as the handler gets it;
   * `undefined`: the request is routed at random by the canary's weight. A throw is answered 500.
   * Default none. Only a glean handle is routed; a plain function handler is called as it is.
   */
  routingKey?: (request: HttpRequest) => string | undefined;
  /**
   * The version a request must run on, by its config `version` text (a header only staff send, for
   * example), whatever its routing key; a version the id does not run is answered 500 with
   * `GLEAN_NOT_CONFIGURED`. `undefined`: routed as usual. Default none.
   */
  versionOverride?: (request: HttpRequest) => string | undefined;
}

/** What {@link HttpAdapterOptions.onError} is told besides the error. */
export interface HttpErrorContext {
  /** The status the client got: 500, 503 or 504. */
  readonly status: number;
  readonly method: string;
  readonly url: string;
}

/** The defaults of {@link HttpAdapterOptions}. */
export const DEFAULT_HTTP_OPTIONS = { bodyLimit: 1_048_576, retryAfterSeconds: 1 } as const;

/** Options with their defaults filled in, once per adapter rather than per request. */
export interface ResolvedHttpOptions {
  readonly bodyLimit: number;
  readonly retryAfterSeconds: number;
  /** Where the adapter's lines go (log.ts); its `child()`, if any, called once per adapter. */
  readonly log: Log;
  readonly onError: HttpAdapterOptions['onError'];
  readonly routingKey: HttpAdapterOptions['routingKey'];
  readonly versionOverride: HttpAdapterOptions['versionOverride'];
}

/** Fills in the defaults; throws a `RangeError` for a limit or a delay that is not a number ≥ 0. */
export function resolveHttpOptions(options: HttpAdapterOptions = {}): ResolvedHttpOptions {
  const {
    bodyLimit = DEFAULT_HTTP_OPTIONS.bodyLimit,
    retryAfterSeconds = DEFAULT_HTTP_OPTIONS.retryAfterSeconds,
    logger = console,
    onError,
    routingKey,
    versionOverride,
  } = options;
  for (const [name, value] of [
    ['routingKey', routingKey],
    ['versionOverride', versionOverride],
  ] as const) {
    if (value !== undefined && typeof value !== 'function')
      throw new TypeError(`${name} must be a function of the request, got ${value === null ? 'null' : typeof value}`);
  }
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 0)
    throw new RangeError(`bodyLimit must be a whole number of bytes ≥ 0, got ${String(bodyLimit)}`);
  if (!Number.isSafeInteger(retryAfterSeconds) || retryAfterSeconds < 0)
    throw new RangeError(`retryAfterSeconds must be a whole number ≥ 0, got ${String(retryAfterSeconds)}`);
  return { bodyLimit, retryAfterSeconds, log: new Log(logger), onError, routingKey, versionOverride };
}

/**
 * Calls `handler` with `request` and turns whatever happens into a response ready to write; never
 * rejects. The request body moves to the worker (it is detached here afterwards) unless it is a
 * view on part of a larger buffer, which is copied first so that nothing else is detached with it.
 * A failure is answered by its code (see `STATUS_OF_CODE`: 503, 504, otherwise 500) with the
 * status's reason phrase only, and reported to the logger and `onError`.
 */
export async function dispatch(
  handler: HttpHandler,
  request: HttpRequest,
  options: ResolvedHttpOptions,
): Promise<PreparedResponse> {
  let response: unknown;
  let prepared: PreparedResponse | PreparedStream;
  try {
    response = await call(handler, request, options);
    prepared = prepareResponse(response);
  } catch (error) {
    // A streamed body that will not be sent is stopped, so its generator does not wait for a reader.
    void cancel((response as { body?: unknown } | undefined)?.body);
    return failed(error, request, options);
  }
  if (!isPreparedStream(prepared)) return prepared;
  // Its first chunk before the headers: a stream that fails at once (GLEAN_TIMEOUT, a plugin error) is still answered by its code.
  const { body, length, ...head } = prepared;
  try {
    const chunks = await openBody(body, length, (error) => reportCutStream(error, request, options, head.status));
    return { ...head, body: chunks };
  } catch (error) {
    return failed(error, request, options);
  }
}

/** A streamed body failed after its status was sent: the connection is cut, and the error goes where 5xx errors go. */
function reportCutStream(
  error: unknown,
  request: Pick<HttpRequest, 'method' | 'url'>,
  options: ResolvedHttpOptions,
  status: number,
): void {
  const { method, url } = request;
  options.log.write(LogLine.HTTP_STREAM_CUT, { ...errorFields(error), method, url, status });
  try {
    options.onError?.(error, { status, method, url });
  } catch (listenerError) {
    options.log.write(LogLine.HTTP_ON_ERROR_THREW, { method, url, err: listenerError });
  }
}

/**
 * The response for a failure, reported first. Also used by the adapters for errors found before
 * the handler is called (a body another middleware parsed into an object).
 */
export function failed(
  error: unknown,
  request: Pick<HttpRequest, 'method' | 'url'>,
  options: ResolvedHttpOptions,
): PreparedResponse {
  const status = statusOf(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (status >= 500) {
    const { method, url } = request;
    const context: HttpErrorContext = { status, method, url };
    if (code !== 'GLEAN_QUEUE_FULL')
      options.log.write(status === 500 ? LogLine.HTTP_FAILED : LogLine.HTTP_UNAVAILABLE, {
        ...errorFields(error),
        method,
        url,
        status,
      });
    try {
      options.onError?.(error, context);
    } catch (listenerError) {
      options.log.write(LogLine.HTTP_ON_ERROR_THREW, { method, url, err: listenerError });
    }
  }
  return errorResponse(status, code === 'GLEAN_QUEUE_FULL' ? options.retryAfterSeconds : undefined);
}

/** Calls the handler, routed by the request's key and version override when the adapter has them. */
function call(handler: HttpHandler, request: HttpRequest, options: ResolvedHttpOptions): unknown {
  const { routingKey, versionOverride } = options;
  // Only a glean function handle is routed: a plain function handler is called as it is.
  if ((routingKey === undefined && versionOverride === undefined) || handleState(handler)?.kind !== 'function')
    return handler(movable(request));
  // Asked before the body moves to the worker: the body is detached here afterwards.
  const key = routingKey?.(request);
  checkCallOptions({ key }, 'routingKey');
  const version = versionOverride?.(request);
  checkCallOptions({ version }, 'versionOverride');
  const moved = movable(request);
  return callWithOptions(handler, { key, version }, [moved]) ?? handler(moved);
}

function movable(request: HttpRequest): HttpRequest {
  const { body } = request;
  if (body.byteLength === 0) return request;
  const whole =
    body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
  // A copy through the constructor: a Buffer's slice() would be another view on the same memory.
  const owned = whole ? body : new Uint8Array(body);
  return transfer(owned === body ? request : { ...request, body: owned }, [owned.buffer as ArrayBuffer]);
}
