/**
 * `@glean/core/express`: a hot HTTP handler as Express middleware. Express is only a type here:
 * nothing of it is imported at run time.
 *
 * @module @glean/core/express
 */
import type { RequestHandler } from 'express';
import { bodyFromParsed } from './body.js';
import type { HttpHandler } from './contract.js';
import { failed, dispatch, resolveHttpOptions, type HttpAdapterOptions } from './dispatch.js';
import { GleanHttpError, HttpErrorCode } from './errors.js';
import { serveNode, writeNodeResponse } from './node.js';
import { errorResponse } from './response.js';
import { type StatusHandlerOptions, statusHandler } from './status.js';
import type { Glean } from '../glean.js';

/**
 * Express 5 middleware that answers every request reaching it with `handler`, a live handle
 * (`glean.reloadAndWatch`) so it follows swaps: `app.all('/foo', expressHandler(foo))`. It answers
 * itself, errors included (500, 503 with `Retry-After`, 504, 413 past `bodyLimit`), and never calls
 * `next(error)`: Express's default error page would show the stack outside production.
 *
 * The handler gets the raw body: mount it before body parsers, or after `express.raw()` /
 * `express.text()`. A body some other parser already turned into an object is answered 500
 * (`GLEAN_HTTP_BODY_UNAVAILABLE`). `url` is `req.originalUrl`, the URL the client asked for.
 * See {@link HttpAdapterOptions} for the options and their defaults.
 */
export function expressHandler(handler: HttpHandler, options: HttpAdapterOptions = {}): RequestHandler {
  const resolved = resolveHttpOptions(options);
  return (req, res) => {
    const url = req.originalUrl;
    // Nothing read the stream yet: read it here, with the limit, into bytes of our own.
    if (req.body === undefined && !req.readableEnded) {
      void serveNode(handler, req, res, url, resolved);
      return;
    }
    const body = bodyFromParsed(req.body);
    const method = req.method;
    if (body === undefined) {
      const error = new GleanHttpError(
        HttpErrorCode.BODY_UNAVAILABLE,
        500,
        `${method} ${url}: the body was already parsed into an object by another middleware; mount the glean handler before it, or after express.raw()`,
      );
      writeNodeResponse(res, failed(error, { method, url }, resolved));
    } else if (body.byteLength > resolved.bodyLimit) {
      writeNodeResponse(res, errorResponse(413));
    } else {
      void dispatch(handler, { method, url, headers: req.headers, body }, resolved).then((prepared) =>
        writeNodeResponse(res, prepared),
      );
    }
  };
}

/**
 * The status handler (`statusHandler` of `@glean/core/http`) as Express 5 middleware:
 * `app.get('/glean/status', expressStatusHandler(glean))` (Express answers HEAD through the GET route).
 * JSON, 200 when the replica serves, 503 otherwise; 405 with `Allow` for methods other than GET and
 * HEAD (mounted with `app.all`). Throws a `TypeError` when `glean` is not a Glean.
 */
export function expressStatusHandler(glean: Glean, options: StatusHandlerOptions = {}): RequestHandler {
  const listener = statusHandler(glean, options);
  return (req, res) => listener(req, res);
}

export type { HttpAdapterOptions, HttpErrorContext } from './dispatch.js';
export type { StatusHandlerOptions, StatusReport, StatusReportPlugin } from './status.js';
export type { HttpHandler, HttpRequest, HttpResponse } from './contract.js';
