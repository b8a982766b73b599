import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CallQueue, type QueueEntry } from '../packages/core/src/call-queue.js';

function entry(overrides: Partial<QueueEntry> = {}): QueueEntry {
  return {
    id: 'Id',
    name: 'fn',
    member: null,
    args: [],
    timeoutMs: undefined,
    signal: undefined,
    timedOut: () => new Error('timed out'),
    aborted: () => new Error('aborted'),
    ...overrides,
  };
}

/** The error a promise rejected with; fails if it resolves or is still pending once the microtasks ran. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const pending = Symbol('pending');
  let outcome: unknown = pending;
  promise.then(
    () => {
      outcome = new Error('resolved, expected a rejection');
    },
    (error: unknown) => {
      outcome = error;
    },
  );
  await vi.advanceTimersByTimeAsync(0);
  if (outcome === pending) throw new Error('still pending, expected a rejection');
  return outcome as Error;
}

describe('call queue', () => {
  // Timers and Date.now are the queue's only inputs besides its calls: faked, the tests wait for nothing.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('hands calls out in arrival order, and the taker settles them', async () => {
    const queue = new CallQueue();
    const first = queue.push(entry({ args: [1] }));
    const second = queue.push(entry({ args: [2] }));
    expect(queue.length).toBe(2);
    const a = queue.shift();
    const b = queue.shift();
    expect([a?.args, b?.args]).toEqual([[1], [2]]);
    expect(queue.shift()).toBeUndefined();
    a?.resolve('one');
    b?.reject(new Error('two'));
    expect(await first).toBe('one');
    expect((await rejection(second)).message).toBe('two');
  });

  test('a call whose timeout runs out in the queue leaves it with its timeout error, and the drain hears of it', async () => {
    let left = 0;
    const queue = new CallQueue(() => left++);
    const waiting = queue.push(entry({ timeoutMs: 20, timedOut: () => new Error('waited too long') }));
    // It rejects inside advanceTimersByTimeAsync, before rejection() below can listen: handled from now on.
    waiting.catch(() => {});
    const staying = queue.push(entry({ args: ['stays'] }));
    await vi.advanceTimersByTimeAsync(19);
    expect(left).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect((await rejection(waiting)).message).toBe('waited too long');
    expect(left).toBe(1);
    expect(queue.length).toBe(1);
    expect(queue.shift()?.args).toEqual(['stays']);
    void staying;
  });

  test('the time left is counted from the call, not from leaving the queue', async () => {
    const queue = new CallQueue();
    void queue.push(entry({ timeoutMs: 5_000 }));
    void queue.push(entry());
    await vi.advanceTimersByTimeAsync(30);
    const timed = queue.shift();
    expect(timed?.remainingMs()).toBe(5_000 - 30);
    expect(queue.shift()?.remainingMs()).toBeUndefined();
    timed?.resolve(undefined);
  });

  test('an aborted signal takes its call out of the queue; a taken call no longer listens to it', async () => {
    const queue = new CallQueue();
    const controller = new AbortController();
    const aborted = queue.push(entry({ signal: controller.signal, aborted: () => new Error('gave up') }));
    controller.abort();
    expect((await rejection(aborted)).message).toBe('gave up');
    expect(queue.length).toBe(0);

    const later = new AbortController();
    const taken = queue.push(entry({ signal: later.signal, timeoutMs: 10 }));
    const call = queue.shift();
    later.abort();
    // Neither the abort nor the timer touches a call a worker took.
    await vi.advanceTimersByTimeAsync(30);
    call?.resolve('answered');
    expect(await taken).toBe('answered');
  });

  test('rejectAll rejects every waiting call with the error for its id and empties the queue', async () => {
    const queue = new CallQueue();
    const calls = [queue.push(entry({ id: 'A', timeoutMs: 10_000 })), queue.push(entry({ id: 'B' }))];
    queue.rejectAll((id) => new Error(`no worker for ${id}`));
    expect(queue.length).toBe(0);
    expect((await Promise.all(calls.map(rejection))).map((error) => error.message)).toEqual([
      'no worker for A',
      'no worker for B',
    ]);
  });
});
