/**
 * The worker's side of streamed results: a call whose result is an async iterable (an async
 * generator, a `ReadableStream`, a Node `Readable`, or a plain object with one such property, as an
 * `HttpResponse`'s `body`) becomes an open stream, read only as far as the host has granted room
 * ({@link PullMessage}): the worker never runs ahead of the consumer by more than the host's window.
 * Items read in one turn of the event loop go in one message.
 */
import {
  describeThrown,
  isAsyncIterable,
  transferablesOf,
  type CancelMessage,
  type PullMessage,
  type StreamReply,
  type WireFailure,
} from './protocol.js';
import { describeRefusal, encodeValue } from './values.js';

/**
 * How many bytes of strings and binary data one message of items holds at most: past it the batch
 * goes at once. The window counts items, and a batch of 64 large ones (strings of 4 MB under a 64 MB
 * heap, of 32 MB under the default 1 GiB) exhausted the worker's heap before it could post them,
 * where posted one by one each is garbage once copied; an out-of-memory death of that kind can take
 * the whole process down (SECURITY.md, "Resource limits").
 */
export const STREAM_BATCH_BYTES = 1 << 20;

/** Where a result's stream is: the result itself (`key` `null`), or its property `key` with the rest in `value`. */
export interface FoundStream {
  readonly iterable: AsyncIterable<unknown>;
  readonly key: string | null;
  readonly value: Record<string, unknown> | null;
}

/**
 * The stream a result carries, if any: the result itself when it is an async iterable, or the one
 * own enumerable property of a plain object that is. `undefined` for every other result. Throws
 * (for the caller to report as a value that cannot be carried) for an object with two such properties.
 */
export function findStream(result: unknown): FoundStream | undefined {
  if (isAsyncIterable(result)) return { iterable: result, key: null, value: null };
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return undefined;
  let key: string | undefined;
  let iterable: AsyncIterable<unknown> | undefined;
  try {
    const proto = Object.getPrototypeOf(result);
    if (proto !== Object.prototype && proto !== null) return undefined;
    // Data properties only: a getter runs once, when the result is copied, not a second time here.
    for (const [name, property] of Object.entries(Object.getOwnPropertyDescriptors(result))) {
      if (!property.enumerable || !('value' in property) || !isAsyncIterable(property.value)) continue;
      if (key !== undefined) return twoStreams(key, name);
      key = name;
      iterable = property.value;
    }
  } catch {
    // A Proxy whose traps throw: no stream; copying it fails with the place named, as for any result.
    return undefined;
  }
  if (key === undefined || iterable === undefined) return undefined;
  const value: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(Object.getOwnPropertyDescriptors(result))) {
    if (name !== key && property.enumerable) Object.defineProperty(value, name, { ...property, configurable: true });
  }
  return { iterable, key, value };
}

function twoStreams(first: string, second: string): never {
  throw new Error(`properties "${first}" and "${second}" are both streams; a result carries one at most`);
}

/** How the streams post: `send` a message about stream `id` (with what it moves), `fail` it with a failure. */
export interface StreamOutput {
  send(message: StreamReply, id: number, transfer?: readonly unknown[]): void;
  fail(id: number, failure: WireFailure): void;
  threw(id: number, thrown: unknown): void;
}

interface OpenStream {
  readonly iterable: AsyncIterable<unknown>;
  iterator: AsyncIterator<unknown> | undefined;
  /** Items the host granted and this side has not read yet. */
  credit: number;
  /** Items read and not yet posted. */
  batch: unknown[];
  /** The strings and binary data in `batch`, in bytes (about: a string counts its length). */
  batchBytes: number;
  /** Items posted so far, to name one that cannot be copied. */
  posted: number;
  flush: NodeJS.Immediate | undefined;
  reading: boolean;
  /** Ended: its iterator said done or threw, an item could not be posted, or the host cancelled it. */
  over: boolean;
}

/** The open streams of this worker, by the id of the call that returned each. */
export class WorkerStreams {
  readonly #open = new Map<number, OpenStream>();
  readonly #out: StreamOutput;

  constructor(out: StreamOutput) {
    this.#out = out;
  }

  /**
   * The call `id` returned `found`: say so, and wait for the host's pulls. Answers why not when the
   * object around the stream holds what the table of values refuses (values.ts); throws when it
   * cannot be copied all the same.
   */
  open(id: number, found: FoundStream): string | undefined {
    const encoding = found.value === null ? undefined : encodeValue(found.value, 'result');
    if (encoding !== undefined && 'refused' in encoding)
      return describeRefusal(encoding.refused, 'cannot be copied to the host');
    this.#out.send(
      encoding === undefined
        ? { type: 'stream', id, key: found.key, value: found.value }
        : { type: 'stream', id, key: found.key, value: encoding.value, specials: encoding.specials },
      id,
      found.value === null ? undefined : transferablesOf(found.value),
    );
    this.#open.set(id, {
      iterable: found.iterable,
      iterator: undefined,
      credit: 0,
      batch: [],
      batchBytes: 0,
      posted: 0,
      flush: undefined,
      reading: false,
      over: false,
    });
    return undefined;
  }

  /** A message the host sent about a stream: room for more items, or a cancel. One for a stream that is over is ignored. */
  control(message: PullMessage | CancelMessage): void {
    const stream = this.#open.get(message.id);
    if (stream === undefined) return;
    if (message.type === 'cancel') {
      void this.#cancel(message.id, stream);
      return;
    }
    if (!Number.isSafeInteger(message.n) || message.n <= 0) return;
    stream.credit += message.n;
    if (!stream.reading) void this.#read(message.id, stream);
  }

  async #read(id: number, stream: OpenStream): Promise<void> {
    stream.reading = true;
    try {
      while (stream.credit > 0 && !stream.over) {
        let done: unknown;
        let value: unknown;
        try {
          stream.iterator ??= stream.iterable[Symbol.asyncIterator]();
          const step = await stream.iterator.next();
          done = step.done;
          value = done === true ? undefined : step.value;
        } catch (error) {
          if (stream.over || !this.#post(id, stream)) return;
          this.#close(id, stream);
          this.#out.threw(id, error);
          return;
        }
        // Cancelled while the iterator was busy: its return() runs after this next(), and ends the stream.
        if (stream.over) return;
        if (done === true) {
          if (!this.#post(id, stream)) return;
          this.#close(id, stream);
          this.#out.send({ type: 'end', id }, id);
          return;
        }
        stream.batch.push(value);
        stream.batchBytes += bytesOf(value);
        stream.credit--;
        if (stream.credit === 0 || stream.batchBytes >= STREAM_BATCH_BYTES) {
          if (!this.#post(id, stream)) return;
        } else {
          // Items read in this turn of the event loop travel together; one that waits for I/O goes at the next.
          stream.flush ??= setImmediate(() => {
            stream.flush = undefined;
            if (!stream.over) this.#post(id, stream);
          });
        }
      }
    } finally {
      stream.reading = false;
    }
  }

  /** Posts the items read; `false` when they could not be copied, which ends the stream (its `finally` runs) with a failure. */
  #post(id: number, stream: OpenStream): boolean {
    if (stream.flush !== undefined) clearImmediate(stream.flush);
    stream.flush = undefined;
    const items = stream.batch;
    if (items.length === 0) return true;
    stream.batch = [];
    stream.batchBytes = 0;
    const transfer: unknown[] = [];
    // Each item under the table of values (values.ts): as it is, encoded, or refused where it is.
    const wire: unknown[] = [];
    const specials: object[][] = [];
    let refused: string | undefined;
    for (let i = 0; i < items.length; i++) {
      const encoding = encodeValue(items[i], `stream item ${stream.posted + i}`);
      if (encoding !== undefined && 'refused' in encoding) {
        refused = describeRefusal(encoding.refused, 'cannot be copied to the host');
        items.length = i;
        break;
      }
      const moved = transferablesOf(items[i]);
      if (moved !== undefined) transfer.push(...moved);
      wire.push(encoding === undefined ? items[i] : encoding.value);
      specials.push(encoding === undefined ? [] : [...encoding.specials]);
    }
    const message = (from: number, to: number): StreamReply => {
      const listed = specials.slice(from, to).flat();
      return listed.length === 0
        ? { type: 'items', id, items: wire.slice(from, to) }
        : { type: 'items', id, items: wire.slice(from, to), specials: listed };
    };
    let sent = items.length === 0;
    if (!sent) {
      try {
        this.#out.send(message(0, items.length), id, transfer.length === 0 ? undefined : transfer);
        stream.posted += items.length;
        sent = true;
      } catch {
        // One of them cannot be copied: the ones before it go, one by one, and it fails the stream.
      }
    }
    for (let i = 0; !sent && i < items.length; i++) {
      try {
        this.#out.send(message(i, i + 1), id, transferablesOf(items[i]));
        stream.posted++;
      } catch (error) {
        refused = `stream item ${stream.posted} cannot be copied to the host: ${describeThrown(error)}`;
        break;
      }
    }
    if (refused === undefined) return true;
    this.#close(id, stream);
    const failure: WireFailure = { reason: 'not-cloneable', message: refused };
    // Its finally runs first; what it throws is lost to the failure that ended it.
    const report = (): void => this.#out.fail(id, failure);
    this.#return(stream).then(report, report);
    return false;
  }

  /** The host wants no more: the iterator's `return()` runs (a generator's `finally`), then the host hears the end. */
  async #cancel(id: number, stream: OpenStream): Promise<void> {
    this.#close(id, stream);
    try {
      await this.#return(stream);
    } catch (error) {
      this.#out.threw(id, error);
      return;
    }
    this.#out.send({ type: 'end', id }, id);
  }

  #return(stream: OpenStream): Promise<unknown> {
    return (async () => {
      // A stream nobody read yet is opened to be closed: a Readable or ReadableStream lets go of its source that way.
      stream.iterator ??= stream.iterable[Symbol.asyncIterator]();
      await stream.iterator.return?.();
    })();
  }

  #close(id: number, stream: OpenStream): void {
    stream.over = true;
    stream.batch = [];
    stream.batchBytes = 0;
    if (stream.flush !== undefined) clearImmediate(stream.flush);
    stream.flush = undefined;
    this.#open.delete(id);
  }
}

/** The size a stream item adds to its batch: a string's length, a buffer's bytes; other values count nothing. Never throws. */
function bytesOf(item: unknown): number {
  if (typeof item === 'string') return item.length;
  try {
    if (ArrayBuffer.isView(item) || item instanceof ArrayBuffer) return item.byteLength;
  } catch {
    // A Proxy's trap, or a getter of a subclass, that throws: its copy fails where it is posted.
  }
  return 0;
}
