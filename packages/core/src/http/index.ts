/**
 * `@glean/core/http` — hot HTTP handlers: the plain request/response contract a plugin export
 * implements, and a `node:http` request listener serving one from a live handle; the status
 * handler for readiness probes and operators (`statusHandler`). Needs neither
 * Fastify nor Express; their adapters are `@glean/core/fastify` and `@glean/core/express`.
 *
 * @module @glean/core/http
 */
export { httpListener } from './node.js';
export type { RequestListener } from './node.js';
export { DEFAULT_HTTP_OPTIONS } from './dispatch.js';
export type { HttpAdapterOptions, HttpErrorContext } from './dispatch.js';
export { callHttpHandler } from './call.js';
export { statusHandler } from './status.js';
export type { StatusHandlerOptions, StatusReport, StatusReportPlugin } from './status.js';
export type { PreparedResponse } from './response.js';
export { GleanHttpError, HttpErrorCode, STATUS_OF_CODE } from './errors.js';
export type {
  HttpBody,
  HttpBodyStream,
  HttpHandler,
  HttpRequest,
  HttpRequestHeaders,
  HttpResponse,
  HttpResponseHeaders,
} from './contract.js';
