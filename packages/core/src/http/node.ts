import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './body.js';
import type { HttpHandler } from './contract.js';
import { dispatch, resolveHttpOptions, type HttpAdapterOptions, type ResolvedHttpOptions } from './dispatch.js';
import { errorResponse, type PreparedResponse } from './response.js';
import { writeStreamed } from './stream.js';

/** A `node:http` (or `node:https`) request listener, as `createServer` takes. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A `node:http` request listener that answers every request with `handler`: give it a live handle
 * (`glean.reloadAndWatch`) and each request goes to the id's version current when it arrives, so
 * the server follows swaps. The body is read up to `bodyLimit` (413 past it, before any worker
 * sees it); plugin errors are answered 500, `GLEAN_QUEUE_FULL` 503 with `Retry-After`,
 * `GLEAN_TIMEOUT` 504, each without the error's message or stack. See {@link HttpAdapterOptions}.
 *
 * ```js
 * const foo = httpListener(await glean.reloadAndWatch('FooHandlerID'));
 * createServer(foo).listen(9988);
 * ```
 */
export function httpListener(handler: HttpHandler, options: HttpAdapterOptions = {}): RequestListener {
  const resolved = resolveHttpOptions(options);
  return (request, response) => {
    void serveNode(handler, request, response, request.url ?? '/', resolved);
  };
}

/** Reads the body of `request` itself and answers on `response`; shared by the node:http and Express adapters. Never rejects. */
export async function serveNode(
  handler: HttpHandler,
  request: IncomingMessage,
  response: ServerResponse,
  url: string,
  options: ResolvedHttpOptions,
): Promise<void> {
  let body: Uint8Array;
  try {
    body = await readBody(request, request.headers['content-length'], options.bodyLimit);
  } catch (error) {
    if ((error as { status?: unknown }).status === 413) writeNodeResponse(response, errorResponse(413));
    // Otherwise the request broke off: nobody is left to answer.
    else response.destroy();
    return;
  }
  writeNodeResponse(
    response,
    await dispatch(handler, { method: request.method ?? 'GET', url, headers: request.headers, body }, options),
  );
}

/** Writes a prepared response, unless the client is already gone or something else answered (a streamed body is then stopped). */
export function writeNodeResponse(response: ServerResponse, prepared: PreparedResponse): void {
  const { status, headers, body } = prepared;
  const whole = typeof body === 'string' || body instanceof Uint8Array;
  if (response.headersSent || response.writableEnded || response.destroyed) {
    if (!whole) void body.return?.();
    return;
  }
  if (!whole) {
    void writeStreamed(response, status, headers, body);
    return;
  }
  response.writeHead(status, headers);
  response.end(body);
}
