/**
 * The host's side of one streamed result: the async iterable the caller gets. It holds the items
 * that arrived and were not read yet, grants the worker room for more as they are read (never more
 * than {@link STREAM_WINDOW} ahead of the reader), and ends once: with the worker's end, its error or
 * its death (after the items already here), or at once when the host ends it (`return()`, a timeout,
 * the call's signal, `release()`, `close()`, a drain that ran out of time). No threads: the slot
 * carries what it asks for (slot.ts).
 */
import type { ResultStream } from './handle.js';

/**
 * How many items of one stream may be ahead of its reader: sent by the worker or waiting on the host,
 * not yet read. The worker reads its iterator no further; a worker that sends more is terminated.
 */
export const STREAM_WINDOW = 64;

/**
 * How long a stream may wait for its reader to ask for the next item before it is ended: a stream
 * nobody reads does not hold its worker and its version for ever. The next `next()` rejects
 * `GLEAN_TIMEOUT`; the worker's iterator is returned (a generator's `finally` runs).
 */
export const STREAM_IDLE_TIMEOUT_MS = 60_000;

/** What a stream asks of the worker that serves it. */
export interface StreamPort {
  /** Room for `n` more items. */
  pull(n: number): void;
  /** No more items wanted: the worker returns its iterator, then says the stream is over. */
  cancel(): void;
  /** The worker is done with the stream (it said so, or it died): the stream no longer counts as a call in flight. */
  done(): void;
  /** A reader waited `timeoutMs` for an item in vain: is the worker still alive? */
  stalled(): void;
}

/** The errors a stream ends with when the host ends it. */
export interface StreamErrors {
  /** The reader waited `ms` for an item. */
  timedOut(ms: number): Error;
  /** Nobody asked for an item for `ms`. */
  idle(ms: number): Error;
  /** The call's signal aborted. */
  aborted(signal: AbortSignal): Error;
}

/** How one stream behaves: its window and bounds, and its call's options. */
export interface StreamSettings {
  readonly errors: StreamErrors;
  /** The call's `timeoutMs`: how long a reader waits for each item. Default: for ever. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Default {@link STREAM_WINDOW}. */
  readonly window?: number;
  /** Default {@link STREAM_IDLE_TIMEOUT_MS}. */
  readonly idleMs?: number;
  /** The streams of the handle that made the call, which `release()` ends: this one is in it while it can be read. */
  readonly owner?: StreamOwner | undefined;
}

/**
 * The streams of one handle's calls that can still be read. {@link endAll} ends them (`release()`),
 * and any that starts after it (a call that was on its way) at once.
 */
export class StreamOwner {
  readonly #open = new Set<HostStream>();
  #ended: (() => Error) | undefined;

  add(stream: HostStream): void {
    if (this.#ended !== undefined) stream.end(this.#ended());
    else this.#open.add(stream);
  }

  delete(stream: HostStream): void {
    this.#open.delete(stream);
  }

  /** Ends every stream with `error()`, now and from now on. */
  endAll(error: () => Error): void {
    this.#ended = error;
    for (const stream of [...this.#open]) stream.end(error());
  }
}

/**
 * `open`: items flow. `ending`: the worker is done, the items here are still to be read.
 * `closing`: the host ended it and waits for the worker to say its iterator returned. `closed`.
 */
type StreamState = 'open' | 'ending' | 'closing' | 'closed';

interface Waiter {
  resolve(result: IteratorResult<unknown>): void;
  reject(error: unknown): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** One streamed result, as its caller iterates it. Iterating it twice continues where the first left. */
export class HostStream<T = unknown> implements ResultStream<T> {
  readonly #port: StreamPort;
  readonly #settings: StreamSettings;
  readonly #window: number;
  readonly #buffer: unknown[] = [];
  readonly #waiters: Waiter[] = [];
  #state: StreamState = 'open';
  /** What the reader gets once the items here are read: the end, or an error (then the end). */
  #final: { error: unknown } | undefined;
  #granted = 0;
  #received = 0;
  #read = 0;
  #itemTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Since when nobody asked for an item (`Date.now()`); `undefined` while a reader waits. */
  #idleSince: number | undefined;
  #onAbort: (() => void) | undefined;
  /** Resolved when the worker is done with the stream: what `return()` waits for. */
  readonly #workerDone: Promise<void>;
  #markWorkerDone: () => void = () => {};

  constructor(port: StreamPort, settings: StreamSettings) {
    this.#port = port;
    this.#settings = settings;
    this.#window = settings.window ?? STREAM_WINDOW;
    this.#workerDone = new Promise((resolve) => (this.#markWorkerDone = resolve));
    const { signal } = settings;
    if (signal !== undefined) {
      this.#onAbort = () => this.end(settings.errors.aborted(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#armIdle();
    // Last: a handle released while the call was on its way ends the stream right here.
    settings.owner?.add(this as HostStream);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Items that arrived and were not read yet: at most the window. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Whether the worker still has the stream (open, or ended by the host and not yet acknowledged). */
  get active(): boolean {
    return this.#state === 'open' || this.#state === 'closing';
  }

  /** The next item; rejects with the worker's error or the coded error that ended the stream, once, then `done`. */
  next(): Promise<IteratorResult<T, undefined>> {
    this.#disarmIdle();
    if (this.#buffer.length > 0) {
      const item = this.#take();
      if (this.#waiters.length === 0) this.#armIdle();
      return Promise.resolve(item);
    }
    if (this.#final !== undefined) return this.#finish();
    const waiting = new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#waiters.push({ resolve: resolve as Waiter['resolve'], reject });
    });
    this.#grant();
    this.#armItemTimer();
    return waiting;
  }

  /**
   * Ends the stream: no more items, the worker's iterator is returned (a generator's `finally` runs),
   * and a `next()` waiting resolves `done`. Resolves once the worker says its iterator returned,
   * or the worker is gone, waiting at most the call's `timeoutMs`; past it the worker is probed, as
   * after an item's timeout (a `finally` that blocks its event loop gets it replaced).
   */
  async return(): Promise<IteratorReturnResult<undefined>> {
    this.end(undefined);
    let timer: NodeJS.Timeout | undefined;
    const { timeoutMs } = this.#settings;
    const returned = await Promise.race([
      this.#workerDone.then(() => true),
      ...(timeoutMs === undefined
        ? []
        : [new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)))]),
    ]);
    clearTimeout(timer);
    if (!returned) this.#port.stalled();
    return DONE;
  }

  /**
   * The host ends the stream now (`error` `undefined`: the reader's own `return()`): the items here
   * are dropped, a `next()` waiting rejects with `error` (or resolves `done`), later ones are `done`.
   * The worker is told to return its iterator. Idempotent.
   */
  end(error: unknown): void {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    const workerHasIt = this.#state === 'open';
    this.#state = workerHasIt ? 'closing' : 'closed';
    this.#buffer.length = 0;
    this.#final = { error };
    this.#stopTimers();
    this.#leaveOwner();
    this.#settle();
    if (workerHasIt) this.#port.cancel();
  }

  /**
   * Items from the worker, in order. `false` when they are more than it was granted: the worker
   * broke the protocol, and nothing was taken.
   */
  deliver(items: readonly unknown[]): boolean {
    if (this.#received + items.length > this.#granted) return false;
    this.#received += items.length;
    // Items sent before the worker read a cancel: counted against the window, then dropped.
    if (this.#state !== 'open') return true;
    for (const item of items) this.#buffer.push(item);
    this.#clearItemTimer();
    this.#settle();
    return true;
  }

  /** The worker is done with the stream: its end (`error` `undefined`) or failure comes after the items here. */
  finish(error: unknown): void {
    this.#markWorkerDone();
    if (this.#state === 'closing') {
      this.#state = 'closed';
      this.#port.done();
      return;
    }
    if (this.#state !== 'open') return;
    this.#state = 'ending';
    this.#final = { error };
    this.#stopTimers();
    this.#port.done();
    this.#settle();
  }

  /** Hands waiting readers what there is: items first, then the end or the error. */
  #settle(): void {
    const waited = this.#waiters.length > 0;
    while (this.#waiters.length > 0) {
      if (this.#buffer.length > 0) this.#waiters.shift()!.resolve(this.#take());
      else if (this.#final !== undefined) {
        const waiter = this.#waiters.shift()!;
        this.#finish().then(waiter.resolve, waiter.reject);
      } else break;
    }
    // Items arriving are no reading: idle starts again only once a reader that waited was served.
    if (waited && this.#waiters.length === 0 && this.#state === 'open') this.#armIdle();
    else if (this.#waiters.length > 0) this.#armItemTimer();
  }

  #take(): IteratorResult<T> {
    const value = this.#buffer.shift();
    this.#read++;
    this.#grant();
    if (this.#buffer.length === 0 && this.#final !== undefined && this.#waiters.length === 0) this.#leaveOwner();
    return { done: false, value: value as T };
  }

  /** The end for a reader: the error once, then `done`. */
  #finish(): Promise<IteratorResult<T>> {
    const final = this.#final!;
    this.#final = { error: undefined };
    if (this.#state === 'ending') this.#state = 'closed';
    this.#leaveOwner();
    return final.error === undefined ? Promise.resolve(DONE) : Promise.reject(final.error);
  }

  /** Room for the worker, once half the window was read: never more than the window ahead of the reader. */
  #grant(): void {
    if (this.#state !== 'open') return;
    const ahead = this.#granted - this.#read;
    if (ahead > this.#window / 2) return;
    const more = this.#window - ahead;
    this.#granted += more;
    this.#port.pull(more);
  }

  #armItemTimer(): void {
    const { timeoutMs } = this.#settings;
    if (timeoutMs === undefined || this.#itemTimer !== undefined || this.#state !== 'open') return;
    this.#itemTimer = setTimeout(() => {
      this.#itemTimer = undefined;
      this.end(this.#settings.errors.timedOut(timeoutMs));
      this.#port.stalled();
    }, timeoutMs);
  }

  #clearItemTimer(): void {
    clearTimeout(this.#itemTimer);
    this.#itemTimer = undefined;
  }

  /**
   * Idle from now. One timer for the stream's life, not one per item: when it fires it looks at the
   * last read, and sleeps again for what is left if the reader came since (or is waiting).
   */
  #armIdle(): void {
    this.#idleSince = Date.now();
    if (this.#idleTimer !== undefined || this.#state !== 'open') return;
    this.#sleepIdle(this.#settings.idleMs ?? STREAM_IDLE_TIMEOUT_MS);
  }

  #sleepIdle(ms: number): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#state !== 'open') return;
      const idleMs = this.#settings.idleMs ?? STREAM_IDLE_TIMEOUT_MS;
      const idle = this.#idleSince === undefined ? 0 : Date.now() - this.#idleSince;
      if (this.#idleSince !== undefined && idle >= idleMs) this.end(this.#settings.errors.idle(idleMs));
      else this.#sleepIdle(this.#idleSince === undefined ? idleMs : idleMs - idle);
    }, ms);
    this.#idleTimer.unref();
  }

  /** A reader is waiting: not idle (the item's own timeout applies). */
  #disarmIdle(): void {
    this.#idleSince = undefined;
  }

  #stopIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #stopTimers(): void {
    this.#clearItemTimer();
    this.#stopIdle();
    if (this.#onAbort !== undefined) this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
  }

  #leaveOwner(): void {
    this.#settings.owner?.delete(this as HostStream);
  }
}
