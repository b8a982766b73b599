/**
 * The hot HTTP handler contract: what a plugin export gets and returns. Both sides are plain data,
 * since they cross a thread; the request body moves to the worker as bytes instead of being copied.
 */

/** Request headers as Node.js parses them: lower-case names; repeated headers as arrays (`set-cookie`) or joined. */
export type HttpRequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Response headers: any case; a list for a header sent more than once. */
export type HttpResponseHeaders = Readonly<Record<string, string | number | readonly string[]>>;

/** A response body: text (sent as UTF-8) or bytes. */
export type HttpBody = string | Uint8Array;

/**
 * A streamed response body: an async iterable (an async generator, a `ReadableStream`, a Node
 * `Readable`) of text or byte chunks, written as they come, each after the client took the last.
 */
export type HttpBodyStream = AsyncIterable<string | Uint8Array>;

/** The plain request a hot HTTP handler gets. */
export interface HttpRequest {
  /** `GET`, `POST`, … */
  readonly method: string;
  /** The path and query as the client sent them: `/foo?x=1`. Under an Express mount point, the full original URL. */
  readonly url: string;
  readonly headers: HttpRequestHeaders;
  /**
   * The whole request body, empty when there is none. Always bytes: they move to the worker instead
   * of being copied, and decoding text there (`new TextDecoder().decode(body)`) keeps that work off
   * the main thread.
   */
  readonly body: Uint8Array;
}

/** The plain response a hot HTTP handler returns (or resolves to). */
export interface HttpResponse {
  /** An integer from 200 to 599. Default 200. */
  readonly status?: number;
  /**
   * Default none; `content-type` defaults to `text/plain; charset=utf-8` for a text body and
   * `application/octet-stream` for bytes or a stream; `content-length` is set from the body, except
   * for a stream, which is sent chunked unless the handler set `content-length` itself (then the
   * stream must be exactly that long, or the connection is cut).
   */
  readonly headers?: HttpResponseHeaders;
  /**
   * Default empty. Bytes a plugin hands back with `transfer(response, [body.buffer])` (or the
   * `Symbol.for('glean.transfer')` key) move to the main thread instead of being copied. A stream
   * ({@link HttpBodyStream}) is pulled from the worker as the client takes it; a client that goes
   * away stops it (a generator's `finally` runs).
   */
  readonly body?: HttpBody | HttpBodyStream | null;
}

/**
 * What the adapters serve: a hot handle (`glean.reloadAndWatch<typeof FooHandler>('FooHandlerID')`),
 * or any function of the same shape, such as the plugin's own export called in-process.
 */
export type HttpHandler = (request: HttpRequest) => HttpResponse | PromiseLike<HttpResponse>;
