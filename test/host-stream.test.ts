/**
 * HostStream, the host's side of one streamed result, without threads: what it asks of the worker
 * (room, a cancel), how far it lets the worker run ahead, what it does with items it never granted,
 * the order of items and ends, and the bound on a stream nobody reads.
 */
import { describe, expect, it } from 'vitest';
import { HostStream, STREAM_WINDOW, StreamOwner, type StreamPort } from '../packages/core/src/stream.js';

/** A worker's side as the stream sees it: what it was asked, in order. */
function recordingPort(): StreamPort & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    pull: (n) => void asked.push(`pull ${n}`),
    cancel: () => void asked.push('cancel'),
    done: () => void asked.push('done'),
    stalled: () => void asked.push('stalled'),
  };
}

const errors = {
  timedOut: (ms: number) => Object.assign(new Error(`no item in ${ms} ms`), { code: 'GLEAN_TIMEOUT' }),
  idle: (ms: number) => Object.assign(new Error(`not read for ${ms} ms`), { code: 'GLEAN_TIMEOUT' }),
  aborted: () => Object.assign(new Error('aborted'), { code: 'GLEAN_ABORTED' }),
};

function stream(options: { window?: number; idleMs?: number; timeoutMs?: number; signal?: AbortSignal } = {}) {
  const port = recordingPort();
  return { port, stream: new HostStream<number>(port, { errors, ...options }) };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('HostStream', () => {
  it('asks for nothing before it is read, then for a window, and for more only once half of it was read', async () => {
    const { port, stream: s } = stream({ window: 8 });
    expect(port.asked).toEqual([]);
    const first = s.next();
    expect(port.asked).toEqual(['pull 8']);
    expect(s.deliver(range(0, 8))).toBe(true);
    expect(await first).toEqual({ done: false, value: 0 });
    for (let i = 1; i < 3; i++) expect((await s.next()).value).toBe(i);
    expect(port.asked).toEqual(['pull 8']);
    // Four read: four ahead, half the window: room for four more.
    expect((await s.next()).value).toBe(3);
    expect(port.asked).toEqual(['pull 8', 'pull 4']);
    expect(s.buffered).toBe(4);
  });

  it('refuses items beyond what it granted, taking none of them, so its buffer never passes the window', () => {
    const { stream: s } = stream();
    void s.next();
    expect(s.deliver(range(0, STREAM_WINDOW + 1))).toBe(false);
    expect(s.buffered).toBe(0);
    expect(s.deliver(range(0, STREAM_WINDOW))).toBe(true);
    expect(s.deliver([STREAM_WINDOW])).toBe(false);
    expect(s.buffered).toBe(STREAM_WINDOW - 1);
  });

  it("gives the items that arrived before the worker's error first, the error once, then done", async () => {
    const { port, stream: s } = stream();
    void s.next();
    s.deliver([1, 2]);
    s.finish(new Error('plugin failed'));
    expect(port.asked).toEqual([`pull ${STREAM_WINDOW}`, 'done']);
    expect(await s.next()).toEqual({ done: false, value: 2 });
    await expect(s.next()).rejects.toThrow('plugin failed');
    expect(await s.next()).toEqual({ done: true, value: undefined });
  });

  it('ends at once when the host ends it: items here dropped, a waiting next() rejected, the worker told, done() only on its answer', async () => {
    const { port, stream: s } = stream();
    const waiting = s.next();
    s.end(Object.assign(new Error('released'), { code: 'GLEAN_RELEASED' }));
    await expect(waiting).rejects.toMatchObject({ code: 'GLEAN_RELEASED' });
    expect(port.asked).toEqual([`pull ${STREAM_WINDOW}`, 'cancel']);
    // Items the worker sent before it read the cancel still count against the window, and are dropped.
    expect(s.deliver([1, 2, 3])).toBe(true);
    expect(s.buffered).toBe(0);
    expect(s.active).toBe(true);
    s.finish(undefined);
    expect(port.asked.at(-1)).toBe('done');
    expect(s.active).toBe(false);
    expect(await s.next()).toEqual({ done: true, value: undefined });
  });

  it('return() resolves a waiting next() done and waits for the worker to say its iterator returned', async () => {
    const { port, stream: s } = stream();
    const waiting = s.next();
    let returned = false;
    const returning = s.return().then(() => (returned = true));
    expect(await waiting).toEqual({ done: true, value: undefined });
    await new Promise((resolve) => setImmediate(resolve));
    expect(returned).toBe(false);
    s.finish(undefined);
    await returning;
    expect(port.asked).toEqual([`pull ${STREAM_WINDOW}`, 'cancel', 'done']);
  });

  it('ends a stream nobody reads after idleMs with its error, and tells the worker; a reader waiting is never idle', async () => {
    const { port, stream: s } = stream({ idleMs: 30 });
    await expect.poll(() => port.asked, { timeout: 2000 }).toEqual(['cancel']);
    await expect(s.next()).rejects.toThrow('not read for 30 ms');

    const { port: busy, stream: read } = stream({ idleMs: 30 });
    const waiting = read.next();
    // The reader is waiting for the worker: what is proved is that nothing happens for over idleMs, which no event can show.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(busy.asked).toEqual([`pull ${STREAM_WINDOW}`]);
    read.deliver([7]);
    expect(await waiting).toEqual({ done: false, value: 7 });
    // Read, then left alone: idle from now.
    await expect.poll(() => busy.asked.at(-1), { timeout: 2000 }).toBe('cancel');
  });

  it("ends a reader's wait for an item after timeoutMs and asks whether the worker is alive", async () => {
    const { port, stream: s } = stream({ timeoutMs: 30 });
    await expect(s.next()).rejects.toThrow('no item in 30 ms');
    expect(port.asked).toEqual([`pull ${STREAM_WINDOW}`, 'cancel', 'stalled']);
  });

  it('gives up a return() the worker does not answer within timeoutMs and asks whether the worker is alive; one answered asks nothing', async () => {
    const { port, stream: s } = stream({ timeoutMs: 30 });
    await s.return();
    expect(port.asked).toEqual(['cancel', 'stalled']);
    const { port: answered, stream: quick } = stream({ timeoutMs: 1000 });
    const returning = quick.return();
    quick.finish(undefined);
    await returning;
    expect(answered.asked).toEqual(['cancel', 'done']);
  });

  it('is ended by its owner (a released handle), and a stream that starts after that ends at once', async () => {
    const owner = new StreamOwner();
    const released = () => Object.assign(new Error('released'), { code: 'GLEAN_RELEASED' });
    const before = new HostStream<number>(recordingPort(), { errors, owner });
    owner.endAll(released);
    await expect(before.next()).rejects.toMatchObject({ code: 'GLEAN_RELEASED' });
    const port = recordingPort();
    const after = new HostStream<number>(port, { errors, owner });
    await expect(after.next()).rejects.toMatchObject({ code: 'GLEAN_RELEASED' });
    expect(port.asked).toEqual(['cancel']);
  });

  it("ends with the signal's error when it aborts", async () => {
    const controller = new AbortController();
    const { port, stream: s } = stream({ signal: controller.signal });
    const waiting = s.next();
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'GLEAN_ABORTED' });
    expect(port.asked).toEqual([`pull ${STREAM_WINDOW}`, 'cancel']);
  });
});
