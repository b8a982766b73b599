/**
 * `@glean/core/fastify`: a hot HTTP handler as a Fastify plugin or route handler. Fastify is only a
 * type here: nothing of it is imported at run time.
 *
 * @module @glean/core/fastify
 */
import { Readable } from 'node:stream';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { bodyFromParsed, readBody } from './body.js';
import type { HttpHandler } from './contract.js';
import { dispatch, failed, resolveHttpOptions, type HttpAdapterOptions, type ResolvedHttpOptions } from './dispatch.js';
import { GleanHttpError, HttpErrorCode } from './errors.js';
import { errorResponse, type PreparedResponse } from './response.js';
import { type StatusHandlerOptions, checkGlean, statusResponse } from './status.js';
import type { Glean } from '../glean.js';

/** Options of {@link gleanFastify}: where to serve, and the {@link HttpAdapterOptions}. */
export interface GleanFastifyOptions extends HttpAdapterOptions {
  /** The handler, usually a live handle from `glean.reloadAndWatch`. Required. */
  handler: HttpHandler;
  /** The route, under the plugin's `prefix`. Default `'/'` (with a `prefix`, the prefix itself). */
  url?: string;
  /** The methods it answers. Default GET, POST, PUT, PATCH, DELETE and OPTIONS; HEAD follows GET (Fastify's `exposeHeadRoutes`). */
  method?: HTTPMethods | HTTPMethods[];
}

/** The methods {@link gleanFastify} answers by default. */
export const DEFAULT_FASTIFY_METHODS: readonly HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * A Fastify plugin serving one route with `handler`, following swaps when it is a live handle:
 * `app.register(gleanFastify, { handler: foo, url: '/foo' })`. Inside its own encapsulated context
 * it replaces Fastify's body parsers with one that reads every body raw, up to `bodyLimit`, into
 * bytes that move to the worker (a larger body is answered 413 by Fastify's error handler before
 * any worker sees it); the application's other routes keep their parsers.
 */
export const gleanFastify: FastifyPluginCallback<GleanFastifyOptions> = (fastify, options, done) => {
  const { handler, url = '/', method = [...DEFAULT_FASTIFY_METHODS], ...adapterOptions } = options;
  if (typeof handler !== 'function') {
    done(
      new TypeError(
        'gleanFastify: the `handler` option must be a function, such as a handle from glean.reloadAndWatch',
      ),
    );
    return;
  }
  const resolved = resolveHttpOptions(adapterOptions);
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, payload, parsed) => {
    readBody(payload, request.headers['content-length'], resolved.bodyLimit).then(
      (body) => parsed(null, owned(body)),
      (error: Error) => parsed(error, undefined),
    );
  });
  fastify.route({ method, url, handler: handlerOf(handler, resolved) });
  done();
};

/**
 * A Fastify route handler answering with `handler`: `app.post('/foo', fastifyHandler(foo))`. It needs
 * the body as bytes or text, so give its route a raw parser (`addContentTypeParser('*', { parseAs:
 * 'buffer' }, …)`), or use {@link gleanFastify}, which does; a body parsed into an object (Fastify's
 * default JSON parser) is answered 500 (`GLEAN_HTTP_BODY_UNAVAILABLE`). See {@link HttpAdapterOptions}.
 */
export function fastifyHandler(
  handler: HttpHandler,
  options: HttpAdapterOptions = {},
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return handlerOf(handler, resolveHttpOptions(options));
}

/** Bodies the plugin's own parser read: already the handler's own bytes, moved without another copy. */
const OWNED = new WeakSet<Uint8Array>();

function owned(body: Uint8Array): Uint8Array {
  OWNED.add(body);
  return body;
}

function handlerOf(
  handler: HttpHandler,
  options: ResolvedHttpOptions,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async function gleanHandler(request, reply) {
    const { method, url, headers } = request;
    const parsed = request.body;
    const body = parsed instanceof Uint8Array && OWNED.has(parsed) ? parsed : bodyFromParsed(parsed);
    let prepared: PreparedResponse;
    if (body === undefined) {
      const error = new GleanHttpError(
        HttpErrorCode.BODY_UNAVAILABLE,
        500,
        `${method} ${url}: the body was parsed into an object; register the route through gleanFastify or give it a raw body parser`,
      );
      prepared = failed(error, { method, url }, options);
    } else if (body.byteLength > options.bodyLimit) {
      prepared = errorResponse(413);
    } else {
      prepared = await dispatch(handler, { method, url, headers, body }, options);
    }
    const out = prepared.body;
    const payload =
      typeof out === 'string'
        ? out
        : out instanceof Uint8Array
          ? Buffer.from(out.buffer, out.byteOffset, out.byteLength)
          : // Fastify pipes a stream and destroys it when the client goes away, which returns the plugin's.
            Readable.from(out, { objectMode: false });
    return reply.code(prepared.status).headers(prepared.headers).send(payload);
  };
}

/**
 * The status handler (`statusHandler` of `@glean/core/http`) as a Fastify route handler:
 * `app.get('/glean/status', fastifyStatusHandler(glean))` (HEAD follows GET, Fastify's
 * `exposeHeadRoutes`). JSON, 200 when the replica serves, 503 otherwise; 405 with `Allow` for
 * other methods (a route registered for them with `app.route`). Throws a `TypeError` when `glean`
 * is not a Glean.
 */
export function fastifyStatusHandler(
  glean: Glean,
  options: StatusHandlerOptions = {},
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  checkGlean(glean, 'fastifyStatusHandler');
  const details = options.details ?? true;
  return async function gleanStatus(request, reply) {
    const { status, headers, body } = statusResponse(glean, request.method, details);
    return reply.code(status).headers(headers).send(body);
  };
}

export type { HttpAdapterOptions, HttpErrorContext } from './dispatch.js';
export type { StatusHandlerOptions, StatusReport, StatusReportPlugin } from './status.js';
export type { HttpHandler, HttpRequest, HttpResponse } from './contract.js';
