/**
 * The open streams of one worker, on the host (see slot.ts): a call whose result the worker says is a
 * stream opens one here, its items, end and error arrive through the call port, and the worker's end
 * or breach finishes them all. Every message is untrusted: one for a stream that is not open, or more
 * items than the host granted, is a breach, reported through `misbehaved`.
 */
import type { CancelMessage, ErrorMessage, PullMessage, StreamReply } from '@glean/worker/protocol';
import { decodeValue } from '@glean/worker/values';
import { ErrorCode, type GleanError } from './errors.js';
import type { PendingCalls } from './pending-calls.js';
import { type PluginRef, abortedError, forId, pluginError } from './plugin-ref.js';
import { HostStream, STREAM_WINDOW, type StreamPort, type StreamSettings } from './stream.js';
import { callFailure } from './worker-errors.js';

/** What the streams need of their worker's slot. */
export interface SlotStreamsParts {
  /** The worker's calls in flight: a stream opens in place of one. */
  readonly pending: PendingCalls;
  /** The version the worker serves, for errors. */
  plugin(): PluginRef;
  /** The worker broke the protocol (`what` it did): it is ended. */
  misbehaved(what: string): void;
  /** Posts on the worker's call port; nothing once the worker is gone. */
  post(message: PullMessage | CancelMessage): void;
  /** A stream ended and its worker returned its iterator: one call fewer in flight. */
  done(): void;
  /** A reader waited its `timeoutMs` for an item: the worker is probed, as after a call's timeout. */
  stalled(): void;
  /** The error for a call (or stream) of `id` whose encoded value cannot be read. */
  unreadable(id: string, error: unknown): GleanError;
}

interface OpenStream {
  readonly stream: HostStream;
  /** The id of the call that opened it. */
  readonly id: string;
}

export class SlotStreams {
  readonly #open = new Map<number, OpenStream>();
  readonly #parts: SlotStreamsParts;

  constructor(parts: SlotStreamsParts) {
    this.#parts = parts;
  }

  /** How many streams are open: each counts as a call in flight until its worker returned its iterator. */
  get size(): number {
    return this.#open.size;
  }

  /** A stream message from the worker: a call's stream opened, items, or its end. */
  take(message: StreamReply): void {
    const { pending, misbehaved, unreadable } = this.#parts;
    if (message.type === 'stream') {
      const call = pending.get(message.id);
      if (call === undefined) {
        misbehaved(`started a stream for call ${message.id}, which it was not sent or had answered`);
        return;
      }
      let head: unknown = null;
      if (message.key !== null) {
        try {
          head = message.specials === undefined ? message.value : decodeValue(message.value, message.specials);
        } catch (error) {
          // The stream never opens here: the worker's side of it is left to the worker's end or its next breach.
          pending.take(message.id);
          pending.settle(call, undefined, unreadable(call.id, error));
          return;
        }
      }
      pending.take(message.id);
      const stream = new HostStream(this.#port(message.id), {
        errors: streamErrors(forId(this.#parts.plugin(), call.id)),
        timeoutMs: call.timeoutMs,
        signal: call.signal,
        owner: call.owner,
      });
      this.#open.set(message.id, { stream, id: call.id });
      // The caller gave up already (timeout, abort): nobody will read it.
      if (call.settled) stream.end(undefined);
      pending.settle(call, message.key === null ? stream : withStream(head, message.key, stream), undefined);
      return;
    }
    const open = this.#open.get(message.id);
    if (open === undefined) {
      const what = message.type === 'items' ? `sent ${message.items.length} items` : 'ended';
      misbehaved(`${what} for stream ${message.id}, which is not open`);
      return;
    }
    if (message.type === 'end') {
      open.stream.finish(undefined);
      return;
    }
    let items = message.items;
    if (message.specials !== undefined) {
      try {
        items = decodeValue(items, message.specials) as unknown[];
      } catch (error) {
        open.stream.finish(unreadable(open.id, error));
        return;
      }
    }
    if (!open.stream.deliver(items))
      misbehaved(
        `sent ${message.items.length} items for stream ${message.id}, more than it was granted (a window of ${STREAM_WINDOW})`,
      );
  }

  /** An error for no call in flight: the failure of a stream, or a breach. */
  failed(message: ErrorMessage): void {
    const open = this.#open.get(message.id);
    if (open === undefined) {
      this.#parts.misbehaved(`sent an error for call ${message.id}, which it was not sent or had answered`);
      return;
    }
    open.stream.finish(callFailure(message.error, forId(this.#parts.plugin(), open.id)));
  }

  /** Ends every open stream from the host with `error` (see {@link HostStream.end}); each still counts until the worker has returned its iterator. */
  end(error: (id: string) => GleanError): void {
    for (const open of [...this.#open.values()]) open.stream.end(error(open.id));
  }

  /**
   * Finishes every open stream with `error`, after the items that arrived before it: the worker broke
   * the protocol, or is gone (`forget`: and nothing of them is kept).
   */
  finish(error: (id: string) => GleanError, forget = false): void {
    for (const open of [...this.#open.values()]) open.stream.finish(error(open.id));
    if (forget) this.#open.clear();
  }

  /** What the stream of call `callId` asks of the worker. */
  #port(callId: number): StreamPort {
    const { post, done, stalled } = this.#parts;
    return {
      pull: (n) => post({ type: 'pull', id: callId, n }),
      cancel: () => post({ type: 'cancel', id: callId }),
      done: () => {
        if (this.#open.delete(callId)) done();
      },
      stalled,
    };
  }
}

/** The object around a stream (`{ ...value, [key]: stream }`, as an HttpResponse's `body`); defined, so a key "__proto__" stays a key. */
function withStream(value: unknown, key: string, stream: HostStream): unknown {
  const result = value as Record<string, unknown>;
  Object.defineProperty(result, key, { value: stream, enumerable: true, writable: true, configurable: true });
  return result;
}

/** The errors a stream ends with when the host ends it, naming the plugin. */
function streamErrors(plugin: PluginRef): StreamSettings['errors'] {
  return {
    timedOut: (ms) => pluginError(ErrorCode.TIMEOUT, plugin, `stream waited over ${ms} ms for its next item`),
    idle: (ms) => pluginError(ErrorCode.TIMEOUT, plugin, `stream ended: nobody asked for its next item for ${ms} ms`),
    aborted: (signal) => abortedError(plugin, signal),
  };
}
