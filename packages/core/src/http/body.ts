import type { Readable } from 'node:stream';
import { GleanHttpError, HttpErrorCode } from './errors.js';

/**
 * Reads a whole request body into one buffer of its own, exactly as long as the body, so it can be
 * transferred to a worker: a chunk the stream hands out may share its memory with other buffers
 * (Node's pool), and transferring that would detach them too.
 *
 * Rejects `GLEAN_HTTP_BODY_TOO_LARGE` as soon as `content-length` or the bytes read pass `limit`
 * (then the rest of the body is read and dropped, so the connection can answer), and
 * `GLEAN_HTTP_BODY_INCOMPLETE` when the stream fails or closes before its end.
 */
export function readBody(stream: Readable, contentLength: string | undefined, limit: number): Promise<Uint8Array> {
  const declared = parseLength(contentLength);
  if (declared !== undefined && declared > limit) {
    stream.resume();
    return Promise.reject(tooLarge(limit, `content-length ${declared}`));
  }
  return new Promise((resolve, reject) => {
    // A known length fills one buffer in place; otherwise chunks are joined at the end.
    let filled = declared === undefined ? undefined : new Uint8Array(declared);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const done = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Uint8Array | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.byteLength;
      if (size > limit) {
        done();
        stream.resume();
        reject(tooLarge(limit, `more than ${limit} bytes read`));
        return;
      }
      if (filled !== undefined && size > filled.byteLength) {
        // More bytes than declared: a hook in between (decompression) changed the length.
        chunks.push(filled.subarray(0, size - bytes.byteLength));
        filled = undefined;
      }
      if (filled !== undefined) filled.set(bytes, size - bytes.byteLength);
      else chunks.push(bytes);
    };
    const onEnd = (): void => {
      done();
      if (filled !== undefined && size === filled.byteLength) resolve(filled);
      else resolve(join(filled === undefined ? chunks : [filled.subarray(0, size)], size));
    };
    const onError = (error: Error): void => {
      done();
      reject(
        new GleanHttpError(HttpErrorCode.BODY_INCOMPLETE, 400, `request body could not be read: ${error.message}`, {
          cause: error,
        }),
      );
    };
    const onClose = (): void => {
      done();
      reject(new GleanHttpError(HttpErrorCode.BODY_INCOMPLETE, 400, `request closed after ${size} bytes of its body`));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * The body another middleware already read (`express.raw()`, `express.text()`, a Fastify parser),
 * as bytes of the handler's own, or `undefined` when it parsed the body into something else.
 */
export function bodyFromParsed(body: unknown): Uint8Array | undefined {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (ArrayBuffer.isView(body)) {
    // A copy: the caller's buffer may be shared, and other middleware may still read it.
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice();
  }
  return undefined;
}

/** The error for a body over the limit. */
export function tooLarge(limit: number, seen: string): GleanHttpError {
  return new GleanHttpError(
    HttpErrorCode.BODY_TOO_LARGE,
    413,
    `request body is over the limit of ${limit} bytes (${seen})`,
  );
}

function parseLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

function join(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
