import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import { isAsyncIterable } from '@glean/worker/protocol';
import type { HttpResponse } from './contract.js';
import { GleanHttpError, HttpErrorCode } from './errors.js';

/**
 * A response checked and ready to write: lower-case header names, `content-type` set, and
 * `content-length` set unless the body is a stream the handler gave no length: then write it chunked.
 */
export interface PreparedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /**
   * The body; a streamed one as checked bytes, its first chunk already read. Read it to its end, or
   * call its `return()` when the client goes away, so the plugin's stream stops.
   */
  readonly body: string | Uint8Array | AsyncIterableIterator<Uint8Array>;
}

/** A prepared response whose body streams and is not read yet (see dispatch.ts, which reads its first chunk). */
export interface PreparedStream extends Omit<PreparedResponse, 'body'> {
  readonly body: AsyncIterable<unknown>;
  /** The `content-length` the handler set, which the stream must match. */
  readonly length: number | undefined;
}

/** Statuses that carry no body, whatever the handler returned. */
const BODYLESS = new Set([204, 205, 304]);

/** Headers glean sets from the body it sends; the handler's values would only contradict it. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

/**
 * Checks what a handler returned and makes it ready to write. Throws `GLEAN_HTTP_INVALID_RESPONSE`
 * naming the offending part when it is not an {@link HttpResponse}, so it is answered 500 instead of
 * failing halfway through writing.
 */
export function prepareResponse(value: unknown): PreparedResponse | PreparedStream {
  if (value === null || typeof value !== 'object')
    throw invalid(`expected an object { status, headers, body }, got ${describe(value)}`);
  const { status = 200, headers = {} } = value as HttpResponse;
  // Checked as unknown: the handler is another thread's code, its type is a promise, not a fact.
  const body: unknown = (value as HttpResponse).body;
  if (!Number.isInteger(status) || status < 200 || status > 599)
    throw invalid(`status must be an integer from 200 to 599, got ${describe(status)}`);
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers))
    throw invalid(`headers must be an object, got ${describe(headers)}`);

  const streamed = isAsyncIterable(body);
  let declared: number | undefined;
  const prepared: Record<string, string | string[]> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (streamed && key === 'content-length') {
      const text = headerValue(raw);
      if (typeof text !== 'string' || !/^\d{1,15}$/.test(text))
        throw invalid(`header "${name}" of a streamed body must be a whole number of bytes, got ${describe(raw)}`);
      declared = Number(text);
      continue;
    }
    if (FRAMING.has(key)) continue;
    const header = headerValue(raw);
    if (header === undefined)
      throw invalid(`header "${name}" must be a string, a number or a list of them, got ${describe(raw)}`);
    try {
      validateHeaderName(key);
      for (const item of Array.isArray(header) ? header : [header]) validateHeaderValue(key, item);
    } catch (error) {
      throw invalid(`header "${name}" is invalid: ${(error as Error).message}`, error);
    }
    prepared[key] = header;
  }

  if (streamed) {
    if (BODYLESS.has(status)) {
      void cancel(body);
      return { status, headers: prepared, body: '' };
    }
    prepared['content-type'] ??= 'application/octet-stream';
    if (declared !== undefined) prepared['content-length'] = String(declared);
    return { status, headers: prepared, body, length: declared };
  }
  let payload: string | Uint8Array;
  if (body === undefined || body === null) payload = '';
  else if (typeof body === 'string') payload = body;
  else if (body instanceof Uint8Array) payload = body;
  else if (ArrayBuffer.isView(body)) payload = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  else throw invalid(`body must be a string, a Uint8Array or an async iterable of them, got ${describe(body)}`);

  if (BODYLESS.has(status)) return { status, headers: prepared, body: '' };
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (length > 0 && prepared['content-type'] === undefined) {
    prepared['content-type'] = typeof payload === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
  }
  prepared['content-length'] = String(length);
  return { status, headers: prepared, body: payload };
}

/** Whether a prepared response's body still has to be read from its stream. */
export function isPreparedStream(prepared: PreparedResponse | PreparedStream): prepared is PreparedStream {
  return 'length' in prepared;
}

/** Stops a streamed body that will not be sent (a response refused, a status without a body). Never rejects. */
export async function cancel(body: unknown): Promise<void> {
  if (!isAsyncIterable(body)) return;
  try {
    await body[Symbol.asyncIterator]().return?.();
  } catch {
    // Nothing is sent of it either way.
  }
}

/** The answer for an error: the status's reason phrase as text, never the error itself. */
export function errorResponse(status: number, retryAfterSeconds?: number): PreparedResponse {
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return { status, headers, body };
}

function headerValue(raw: unknown): string | string[] | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') return String(raw);
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string' || typeof item === 'number'))
    return raw.map(String);
  return undefined;
}

function invalid(detail: string, cause?: unknown): GleanHttpError {
  return new GleanHttpError(
    HttpErrorCode.INVALID_RESPONSE,
    500,
    `the HTTP handler returned an invalid response: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `${typeof value} ${String(value)}`;
}
