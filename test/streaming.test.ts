/**
 * Streamed results through handles, with real workers: an export that returns an async iterable (an
 * async generator, a ReadableStream, a Node Readable) gives the caller an async iterable of its
 * items, pulled with backpressure (the worker is never more than STREAM_WINDOW items ahead of the
 * reader). `break` stops the generator in the worker (its finally runs); the plugin's error, a crash,
 * a timeout, the call's signal, release(), close() and a drain each end the stream with their code.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, GleanError, withOptions, type Handle } from '@glean/core';
import { STREAM_WINDOW } from '@glean/core/limits';
import { nextEvent, until } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';
import { failOnHostUnhandledRejections, rejectedWith, settledWithin } from './helpers/faults.js';

failOnHostUnhandledRejections();

/** Every stream counts what it produced and whose finally ran in the module, which `state()` reports. */
const PLUGIN = `
import { Readable } from 'node:stream';
const state = { produced: 0, finallyRan: 0 };
const tick = () => new Promise((resolve) => setImmediate(resolve));
export const Streams = {
  async *count(n) {
    try {
      for (let i = 0; i < n; i++) { state.produced++; yield i; }
    } finally { state.finallyRan++; }
  },
  async *endless() {
    let i = 0;
    try {
      for (;;) { state.produced++; yield i++; }
    } finally { state.finallyRan++; }
  },
  async *failAfter(n) {
    for (let i = 0; i < n; i++) yield i;
    await tick();
    throw Object.assign(new RangeError('no more items'), { code: 'E_NO_MORE', cause: new Error('the source ran dry') });
  },
  async *crashAfter(n) {
    for (let i = 0; i < n; i++) yield i;
    await tick();
    process.exit(7);
  },
  async *slow(ms, n) {
    try {
      for (let i = 0; i < n; i++) { await new Promise((resolve) => setTimeout(resolve, ms)); yield i; }
    } finally { state.finallyRan++; }
  },
  async *uncloneable() { yield 1; yield { callback() {} }; },
  readable(n) { return Readable.from(Array.from({ length: n }, (_, i) => 'line ' + i)); },
  webStream(n) {
    let i = 0;
    return new ReadableStream({ pull(controller) { if (i < n) controller.enqueue({ i: i++ }); else controller.close(); } });
  },
  withBody(n) { return { status: 201, body: Streams.count(n) }; },
  async later(ms) { await new Promise((resolve) => setTimeout(resolve, ms)); return Streams.endless(); },
  twoStreams() { return { a: Streams.count(1), b: Streams.count(1) }; },
  state() { return { ...state }; },
};
`;

interface StreamsApi {
  count(n: number): AsyncGenerator<number>;
  endless(): AsyncGenerator<number>;
  failAfter(n: number): AsyncGenerator<number>;
  crashAfter(n: number): AsyncGenerator<number>;
  slow(ms: number, n: number): AsyncGenerator<number>;
  uncloneable(): AsyncGenerator<unknown>;
  readable(n: number): AsyncIterable<string>;
  webStream(n: number): ReadableStream<{ i: number }>;
  withBody(n: number): { status: number; body: AsyncGenerator<number> };
  later(ms: number): Promise<AsyncGenerator<number>>;
  twoStreams(): unknown;
  state(): { produced: number; finallyRan: number };
}

/** A Glean over the plugin, one worker; closed after the test. */
async function setup(options: Record<string, unknown> = {}) {
  const { glean, temp } = await startGlean({
    files: { 'streams.mjs': PLUGIN },
    config: [{ id: 'Streams', file: 'streams.mjs', name: 'Streams', drainTimeoutMs: 2000, ...options }],
  });
  const streams = await glean.reloadAndWatch<StreamsApi>('Streams');
  return { glean, temp, streams };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Reads until the stream rejects; resolves with the items read and the rejection. */
async function readUntilError<T>(iterable: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of iterable) items.push(item);
  } catch (error) {
    return { items, error };
  }
  throw new Error(`the stream ended without an error after ${items.length} items`);
}

describe('a streamed result', () => {
  it('gives the caller every item of an async generator, in order, and the stream counts as a call in flight until it ends', async () => {
    const { glean, streams } = await setup();
    const iterable = await streams.count(10_000);
    expect(typeof iterable[Symbol.asyncIterator]).toBe('function');
    expect(glean.status()['Streams']!.inFlight).toBe(1);
    const items = await collect(iterable);
    expect(items).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(glean.status()['Streams']!.inFlight).toBe(0);
    expect(await streams.state()).toEqual({ produced: 10_000, finallyRan: 1 });
  });

  it('streams a Node Readable, a ReadableStream, and an object whose one property is a stream (an HttpResponse body)', async () => {
    const { streams } = await setup();
    expect(await collect(await streams.readable(3))).toEqual(['line 0', 'line 1', 'line 2']);
    expect(await collect(await streams.webStream(3))).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    const response = await streams.withBody(3);
    expect(response.status).toBe(201);
    expect(await collect(response.body)).toEqual([0, 1, 2]);
  });

  it('refuses a result with two streams GLEAN_NOT_CLONEABLE, and an item that cannot be copied GLEAN_NOT_CLONEABLE naming it', async () => {
    const { streams } = await setup();
    rejectedWith(await settledWithin(streams.twoStreams(), 5000), ErrorCode.NOT_CLONEABLE);
    const { items, error } = await readUntilError(await streams.uncloneable());
    expect(items).toEqual([1]);
    expect(error).toMatchObject({ code: ErrorCode.NOT_CLONEABLE });
    expect((error as Error).message).toContain('stream item 1.callback (function callback)');
  });

  it('keeps the worker no more than STREAM_WINDOW items ahead of a reader that stops reading', async () => {
    const { streams } = await setup();
    const iterator = await streams.endless();
    expect((await iterator.next()).value).toBe(0);
    await until(async () => (await streams.state()).produced >= STREAM_WINDOW, 'the worker to fill the window');
    // Round trips on the same worker: an endless generator not held back would have produced thousands meanwhile.
    for (let i = 0; i < 20; i++) await streams.state();
    expect((await streams.state()).produced).toBeLessThanOrEqual(STREAM_WINDOW + 1);
    // Reading on lets it go on, still within the window of what was read.
    for (let i = 1; i <= 200; i++) expect((await iterator.next()).value).toBe(i);
    expect((await streams.state()).produced).toBeLessThanOrEqual(201 + STREAM_WINDOW);
    await iterator.return();
  });

  it('stops the generator in the worker on break: its finally has run when the loop is left, and the call is no longer in flight', async () => {
    const { glean, streams } = await setup();
    for await (const item of await streams.endless()) if (item === 100) break;
    expect((await streams.state()).finallyRan).toBe(1);
    expect(glean.status()['Streams']!.inFlight).toBe(0);
  });

  it("rejects the next() after the items it yielded with the plugin's error: its class, code and cause", async () => {
    const { streams } = await setup();
    const { items, error } = await readUntilError(await streams.failAfter(3));
    expect(items).toEqual([0, 1, 2]);
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({
      message: 'no more items',
      code: 'E_NO_MORE',
      cause: { message: 'the source ran dry' },
    });
  });

  it('rejects GLEAN_PLUGIN_CRASHED when the worker dies mid-stream, and the next call is served by its replacement', async () => {
    const { streams } = await setup();
    const { items, error } = await readUntilError(await streams.crashAfter(3));
    expect(items).toEqual([0, 1, 2].slice(0, items.length));
    expect(error).toMatchObject({ code: ErrorCode.PLUGIN_CRASHED });
    expect(await collect(await streams.count(2))).toEqual([0, 1]);
  });

  it('bounds the wait for each item by timeoutMs (GLEAN_TIMEOUT), the first included, and stops the generator', async () => {
    const { streams } = await setup();
    const fast = withOptions(streams, { timeoutMs: 1000 });
    expect(await collect(await fast.slow(1, 5))).toEqual([0, 1, 2, 3, 4]);
    const slow = withOptions(streams, { timeoutMs: 100 });
    const { items, error } = await readUntilError(await slow.slow(2000, 2));
    expect(items).toEqual([]);
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT });
    await until(async () => (await streams.state()).finallyRan === 2, "the slow generator's finally");
  });

  it("ends with GLEAN_ABORTED when the call's signal aborts mid-stream, and the generator's finally runs", async () => {
    const { streams } = await setup();
    const controller = new AbortController();
    const iterator = await withOptions(streams, { signal: controller.signal }).endless();
    expect((await iterator.next()).value).toBe(0);
    controller.abort(new Error('the reader went away'));
    const error = rejectedWith(await settledWithin(iterator.next(), 5000), ErrorCode.ABORTED);
    expect(error.cause).toBe(controller.signal.reason);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    await until(async () => (await streams.state()).finallyRan === 1, "the generator's finally");
  });

  it('ends with GLEAN_RELEASED when its handle is released, and with GLEAN_CLOSED on close(), the finally running each time', async () => {
    const { glean, streams } = await setup();
    const other = await glean.reloadAndWatch<StreamsApi>('Streams');
    const released = await streams.endless();
    const closed = await other.endless();
    await Promise.all([released.next(), closed.next()]);
    await glean.release(streams);
    // Items already on the host are dropped: the reader let go.
    rejectedWith(await settledWithin(released.next(), 5000), ErrorCode.RELEASED);
    await until(async () => (await other.state()).finallyRan === 1, "the released stream's finally");

    const closing = glean.close();
    rejectedWith(await settledWithin(closed.next(), 5000), ErrorCode.CLOSED);
    await closing;
  });

  it('ends GLEAN_RELEASED a stream whose call was on its way when its handle was released', async () => {
    const { glean, streams } = await setup();
    const other = await glean.reloadAndWatch<StreamsApi>('Streams');
    const call = streams.later(200);
    await glean.release(streams);
    const stream = await call;
    rejectedWith(await settledWithin(stream.next(), 5000), ErrorCode.RELEASED);
    await until(() => glean.status()['Streams']!.inFlight === 0, 'the stream off the books');
    // It never ran: a generator nobody pulled from has no finally to run.
    expect(await other.state()).toMatchObject({ produced: 0, finallyRan: 0 });
  });

  it('ends GLEAN_RELEASED, on release(), a stream whose call waited through a drain-first handover', async () => {
    const { glean, temp, streams } = await setup({ handover: 'drain-first' });
    const other = await glean.reloadAndWatch<StreamsApi>('Streams');
    // The new version loads slowly: the call below waits in the old one's queue, then goes to it.
    await temp.write('streams.mjs', `await new Promise((resolve) => setTimeout(resolve, 200));\n${PLUGIN}`);
    const reloading = glean.reloadConfig();
    await until(() => glean.status()['Streams']!.state === 'loading', 'the handover to begin');
    const call = streams.endless();
    await reloading;
    const stream = await call;
    expect((await stream.next()).value).toBe(0);
    await glean.release(streams);
    rejectedWith(await settledWithin(stream.next(), 5000), ErrorCode.RELEASED);
    await until(async () => (await other.state()).finallyRan === 1, "the released stream's finally");
  });

  it('holds its version while it is read after a swap, then the version retires; a stream still read after drainTimeoutMs ends GLEAN_DRAIN_TIMEOUT', async () => {
    const { glean, temp, streams } = await setup({ drainTimeoutMs: 1000 });
    const read = await streams.count(300);
    const unread = await streams.endless();
    const retired = nextEvent(glean, 'retire');
    await temp.write('streams.mjs', `${PLUGIN}\n// v2`);
    await glean.reloadConfig();
    // The old version drains: the stream read to its end is answered whole by it.
    expect(await collect(read)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // The unread one holds it until drainTimeoutMs.
    await retired;
    const error = rejectedWith(await settledWithin(unread.next(), 5000), ErrorCode.DRAIN_TIMEOUT);
    expect(error).toBeInstanceOf(GleanError);
    expect(await collect(await streams.count(2))).toEqual([0, 1]);
  });
});

describe('the handle types of a streamed result', () => {
  it('types a method returning AsyncGenerator<T> as one resolving to an AsyncIterableIterator<T>', async () => {
    const { streams } = await setup();
    const handle: Handle<StreamsApi> = streams;
    const iterator: AsyncIterableIterator<number> = await handle.count(1);
    expect(await collect(iterator)).toEqual([0]);
  });
});
