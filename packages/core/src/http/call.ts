import type { HttpHandler, HttpRequest } from './contract.js';
import { dispatch, resolveHttpOptions, type HttpAdapterOptions } from './dispatch.js';
import { errorResponse, type PreparedResponse } from './response.js';

/**
 * For servers glean has no adapter for (Koa, Hono, a raw socket…): calls `handler` with a request
 * whose body the caller has read whole, and resolves with the response to write — header names in
 * lower case, `content-type` and `content-length` set, errors already mapped (413 past
 * `bodyLimit`, 500, 503 with `Retry-After`, 504) and reported. Never rejects.
 *
 * The body moves to the worker and is detached here afterwards; a view on part of a larger buffer is
 * copied first, so nothing else is detached with it.
 */
export function callHttpHandler(
  handler: HttpHandler,
  request: HttpRequest,
  options: HttpAdapterOptions = {},
): Promise<PreparedResponse> {
  const resolved = resolveHttpOptions(options);
  if (request.body.byteLength > resolved.bodyLimit) return Promise.resolve(errorResponse(413));
  return dispatch(handler, request, resolved);
}
