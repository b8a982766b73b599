/**
 * The calls sent to one worker and not answered yet, by call id: each settles once, with its reply,
 * its timeout, its signal, or the worker's end; a call settled early stays on the books until the
 * worker answers it or ends, since the worker may still be running it.
 */
import type { StreamOwner } from './stream.js';

/** One call sent to a worker. */
export interface PendingCall {
  /** The plugin id the call was made for, named in its errors. */
  readonly id: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  /** The caller's signal and the listener on it, removed once the call settles. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Settled early (timed out, aborted or drained away); the worker may still be running it. */
  settled: boolean;
  /** The call's `timeoutMs`, which also bounds each wait for an item of the stream it may return. */
  timeoutMs: number | undefined;
  /** The streams of the handle that made the call, which `release()` ends; a stream it returns joins them. */
  readonly owner: StreamOwner | undefined;
}

/** What the calls on one worker report to it. */
export interface PendingCallsHooks {
  /** A call settled, however: queued calls may go, a drain may be over. */
  onSettle(): void;
  /** A call's `timeoutMs` ran out before its reply. */
  onTimeout(callId: number, call: PendingCall, timeoutMs: number): void;
  /** A call's signal aborted before its reply. */
  onAbort(callId: number, call: PendingCall, signal: AbortSignal): void;
}

export class PendingCalls {
  readonly #calls = new Map<number, PendingCall>();
  readonly #hooks: PendingCallsHooks;
  #unsettled = 0;

  constructor(hooks: PendingCallsHooks) {
    this.#hooks = hooks;
  }

  /** Calls sent and not answered, those settled early included. */
  get size(): number {
    return this.#calls.size;
  }

  /** Calls not settled yet: what a worker's concurrency counts. */
  get unsettled(): number {
    return this.#unsettled;
  }

  /**
   * A call about to be sent as `callId`: its signal is listened to from now on, before anything is
   * posted, so a signal that throws leaves nothing on the books. {@link sent} books it, {@link unsent}
   * forgets it when posting failed.
   */
  open(
    callId: number,
    id: string,
    resolve: PendingCall['resolve'],
    reject: PendingCall['reject'],
    signal?: AbortSignal,
    owner?: StreamOwner,
  ): PendingCall {
    const call: PendingCall = {
      id,
      resolve,
      reject,
      timer: undefined,
      signal: undefined,
      onAbort: undefined,
      settled: false,
      timeoutMs: undefined,
      owner,
    };
    if (signal !== undefined) {
      call.signal = signal;
      call.onAbort = () => {
        if (this.#calls.get(callId) === call && !call.settled) this.#hooks.onAbort(callId, call, signal);
      };
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    return call;
  }

  /** The call could not be posted: it never was on the books. */
  unsent(call: PendingCall): void {
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
  }

  /** The call was posted: booked, with its deadline. */
  sent(callId: number, call: PendingCall, timeoutMs: number | undefined): void {
    call.timeoutMs = timeoutMs;
    if (timeoutMs !== undefined) {
      call.timer = setTimeout(() => {
        call.timer = undefined;
        if (this.#calls.get(callId) === call) this.#hooks.onTimeout(callId, call, timeoutMs);
      }, timeoutMs);
    }
    this.#calls.set(callId, call);
    this.#unsettled++;
  }

  /** The call `callId`, still on the books. */
  get(callId: number): PendingCall | undefined {
    return this.#calls.get(callId);
  }

  /** The worker answered `callId`: off the books; the caller settles it. */
  take(callId: number): PendingCall | undefined {
    const call = this.#calls.get(callId);
    this.#calls.delete(callId);
    return call;
  }

  /** Settles `call` once (later settles only clear its timer and listener). */
  settle(call: PendingCall, value: unknown, error: unknown): void {
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.timer = undefined;
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    call.onAbort = undefined;
    if (call.settled) return;
    call.settled = true;
    this.#unsettled--;
    if (error === undefined) call.resolve(value);
    else call.reject(error);
    this.#hooks.onSettle();
  }

  /** Rejects every unsettled call with the error for its id (they may still run in the worker). */
  rejectAll(error: (id: string) => Error): void {
    for (const call of this.#calls.values()) this.settle(call, undefined, error(call.id));
  }

  /** The worker ended: nothing it sent can answer a call any more. */
  clear(): void {
    this.#calls.clear();
  }
}
