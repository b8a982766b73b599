/**
 * Calls waiting for a worker of one version: bounded, each leaving on its own timeout or abort, in
 * arrival order. No threads: the version hands a taken call to a worker.
 */
import type { CallTrace } from './channels.js';
import type { StreamOwner } from './stream.js';

/** A call waiting for a worker. */
export interface QueuedCall {
  /** The plugin id the call was made for, named in its errors. */
  readonly id: string;
  readonly name: string;
  readonly member: string | null;
  readonly args: readonly unknown[];
  readonly signal: AbortSignal | undefined;
  /** The streams of the handle that made the call, which a stream it returns joins. */
  readonly streams?: StreamOwner | undefined;
  /** Where a traced call notes the worker it is sent to (channels.ts). */
  readonly trace?: CallTrace | undefined;
  /** `timeoutMs` left when the call leaves the queue, counted from the call, never below 1; `undefined` for none. */
  remainingMs(): number | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** What a queued call needs besides its target: its limit, its signal, and the errors to leave with. */
export interface QueueEntry {
  readonly id: string;
  readonly name: string;
  readonly member: string | null;
  readonly args: readonly unknown[];
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** The streams of the handle that made the call, which a stream it returns joins. */
  readonly streams?: StreamOwner | undefined;
  /** Where a traced call notes the worker it is sent to (channels.ts). */
  readonly trace?: CallTrace | undefined;
  /** The error the call rejects with when `timeoutMs` runs out in the queue. */
  readonly timedOut: () => Error;
  /** The error the call rejects with when its signal aborts in the queue. */
  readonly aborted: () => Error;
}

interface Waiting extends QueuedCall {
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
}

/** A FIFO of calls; `onLeave` runs after a call left on its own (timeout, abort), so a drain can notice. */
export class CallQueue {
  readonly #waiting: Waiting[] = [];
  readonly #onLeave: () => void;

  constructor(onLeave: () => void = () => {}) {
    this.#onLeave = onLeave;
  }

  get length(): number {
    return this.#waiting.length;
  }

  /** Queues a call; the promise settles when a worker answers it, or it leaves the queue. The caller checks `maxQueue` and an aborted signal first. */
  push(entry: QueueEntry): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const { timeoutMs, signal } = entry;
      const deadline = Date.now() + (timeoutMs ?? 0);
      const waiting: Waiting = {
        id: entry.id,
        name: entry.name,
        member: entry.member,
        args: entry.args,
        signal,
        streams: entry.streams,
        trace: entry.trace,
        remainingMs: () => (timeoutMs === undefined ? undefined : Math.max(1, deadline - Date.now())),
        resolve,
        reject,
        timer: undefined,
        onAbort: undefined,
      };
      if (timeoutMs !== undefined) waiting.timer = setTimeout(() => this.#leave(waiting, entry.timedOut()), timeoutMs);
      if (signal !== undefined) {
        waiting.onAbort = () => this.#leave(waiting, entry.aborted());
        signal.addEventListener('abort', waiting.onAbort, { once: true });
      }
      this.#waiting.push(waiting);
    });
  }

  /** The oldest call, out of the queue: its timer and abort listener are gone, its promise now the taker's to settle. */
  shift(): QueuedCall | undefined {
    const waiting = this.#waiting.shift();
    if (waiting !== undefined) forget(waiting);
    return waiting;
  }

  /** Rejects every waiting call with the error `error(id)` gives for its id, and empties the queue. */
  rejectAll(error: (id: string) => Error): void {
    for (const waiting of this.#waiting.splice(0)) {
      forget(waiting);
      waiting.reject(error(waiting.id));
    }
  }

  #leave(waiting: Waiting, error: Error): void {
    const index = this.#waiting.indexOf(waiting);
    if (index === -1) return;
    this.#waiting.splice(index, 1);
    forget(waiting);
    waiting.reject(error);
    this.#onLeave();
  }
}

/** A call leaves the queue: its timer and its signal's listener go. */
function forget(waiting: Waiting): void {
  clearTimeout(waiting.timer);
  if (waiting.onAbort !== undefined) waiting.signal?.removeEventListener('abort', waiting.onAbort);
}
