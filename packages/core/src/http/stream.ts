import type { ServerResponse } from 'node:http';
import { GleanHttpError, HttpErrorCode } from './errors.js';

/**
 * A streamed response body, checked as it goes: each chunk a string (sent as UTF-8) or bytes, and as
 * many bytes as the `content-length` the handler set, if it set one. Its first chunk is read before
 * the headers go ({@link openBody}), so a handler whose stream fails at once is still answered with
 * an error status. A failure after that cuts the response: it is reported, and the source is returned
 * (a plugin generator's `finally` runs). `return()` (a client that went away) returns the source too.
 */
export class BodyChunks implements AsyncIterableIterator<Uint8Array> {
  readonly #source: AsyncIterator<unknown>;
  readonly #declared: number | undefined;
  readonly #report: (error: unknown) => void;
  #first: IteratorResult<Uint8Array, undefined> | undefined;
  #sent = 0;
  #chunks = 0;
  #over = false;

  constructor(source: AsyncIterable<unknown>, declared: number | undefined, report: (error: unknown) => void) {
    this.#source = source[Symbol.asyncIterator]();
    this.#declared = declared;
    this.#report = report;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Reads the first chunk. Rejects, the source returned, when the stream fails before it: the caller answers with an error. */
  async start(): Promise<void> {
    this.#first = await this.#read();
  }

  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    const first = this.#first;
    if (first !== undefined) {
      this.#first = undefined;
      return first;
    }
    if (this.#over) return { done: true, value: undefined };
    try {
      return await this.#read();
    } catch (error) {
      this.#report(error);
      throw error;
    }
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    await this.#stop();
    return { done: true, value: undefined };
  }

  async #read(): Promise<IteratorResult<Uint8Array, undefined>> {
    let step: IteratorResult<unknown>;
    try {
      step = await this.#source.next();
    } catch (error) {
      this.#over = true;
      throw error;
    }
    if (this.#over) return { done: true, value: undefined };
    if (step.done === true) {
      this.#over = true;
      if (this.#declared !== undefined && this.#sent !== this.#declared)
        throw invalid(`the streamed body ended after ${this.#sent} bytes; its content-length said ${this.#declared}`);
      return { done: true, value: undefined };
    }
    const chunk = toBytes(step.value);
    if (chunk === undefined) {
      await this.#stop();
      throw invalid(
        `chunk ${this.#chunks} of the streamed body must be a string or a Uint8Array, got ${typeof step.value}`,
      );
    }
    this.#chunks++;
    this.#sent += chunk.byteLength;
    if (this.#declared !== undefined && this.#sent > this.#declared) {
      await this.#stop();
      throw invalid(`the streamed body is longer than its content-length of ${this.#declared} bytes`);
    }
    return { done: false, value: chunk };
  }

  async #stop(): Promise<void> {
    if (this.#over) return;
    this.#over = true;
    try {
      await this.#source.return?.();
    } catch {
      // The source's own failure while it stops: the response is cut either way.
    }
  }
}

/** `body`'s first chunk read, ready to write; rejects when the stream fails before it (the source returned). */
export async function openBody(
  body: AsyncIterable<unknown>,
  declared: number | undefined,
  report: (error: unknown) => void,
): Promise<BodyChunks> {
  const chunks = new BodyChunks(body, declared, report);
  try {
    await chunks.start();
  } catch (error) {
    await chunks.return();
    throw error;
  }
  return chunks;
}

/**
 * Writes a streamed body on a `node:http` response, each chunk after the client took the last
 * (`drain`): chunked, or with the `content-length` the handler set. A client that goes away returns
 * the body's source (the plugin's generator stops, its `finally` runs); a body that fails midway
 * cuts the connection, so the client sees it incomplete, never a complete-looking response.
 */
export async function writeStreamed(
  response: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
  body: AsyncIterator<Uint8Array>,
): Promise<void> {
  const onClose = (): void => {
    if (!response.writableFinished) void body.return?.();
  };
  response.once('close', onClose);
  try {
    response.writeHead(status, headers);
    for (;;) {
      const step = await body.next();
      if (step.done === true || response.destroyed) break;
      if (!response.write(step.value)) await drained(response);
    }
    if (!response.destroyed) response.end();
  } catch {
    // Reported where it was found (BodyChunks); the client must not take a cut body for a whole one.
    response.destroy();
  } finally {
    response.off('close', onClose);
  }
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

function toBytes(chunk: unknown): Uint8Array | undefined {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

function invalid(detail: string): GleanHttpError {
  return new GleanHttpError(
    HttpErrorCode.INVALID_RESPONSE,
    500,
    `the HTTP handler returned an invalid response: ${detail}`,
  );
}
