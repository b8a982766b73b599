/**
 * glean's `node:diagnostics_channel` channels, as undici and Fastify publish theirs: the
 * `glean.call` tracing channel around every handle call, and one channel per announced event
 * (reload, crash, retire, rollback). Everything here runs on the main thread; when nothing
 * subscribes, a call builds no context and publishes nothing.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { GleanError } from './errors.js';
import type { CrashEvent, GleanEvents, ReloadEvent, RetireEvent, RollbackEvent } from './events.js';
import type { Glean } from './glean.js';
import type { Binding } from './handle.js';

/** The channel names, a public contract: `diagnostics_channel.tracingChannel(GleanChannel.CALL)`, `diagnostics_channel.subscribe(GleanChannel.RELOAD, …)`. */
export const GleanChannel = {
  /** The tracing channel of every handle call: `tracing:glean.call:start`, `:end`, `:asyncStart`, `:asyncEnd`, `:error`, each with a {@link CallContext}. */
  CALL: 'glean.call',
  /** Each `reload` event's payload, and the Glean ({@link ReloadMessage}). */
  RELOAD: 'glean.reload',
  /** Each `crash` event's payload, and the Glean ({@link CrashMessage}). */
  CRASH: 'glean.crash',
  /** Each `retire` event's payload, and the Glean ({@link RetireMessage}). */
  RETIRE: 'glean.retire',
  /** Each `rollback` event's payload (a canary rolled back), and the Glean ({@link RollbackMessage}). */
  ROLLBACK: 'glean.rollback',
} as const;
/** One of the {@link GleanChannel} names. */
export type GleanChannel = (typeof GleanChannel)[keyof typeof GleanChannel];

/**
 * What the `glean.call` channels carry: one object per call, the same at every one of its events.
 * Fields a subscriber may rely on are these; a subscriber may add its own (a span, a start time) on
 * keys of its own.
 */
export interface CallContext {
  /** The Glean whose handle made the call; `undefined` for a handle of `loadSymbol()`. */
  readonly glean: Glean | undefined;
  /** The id the handle serves. */
  readonly id: string;
  /** The config `version` text of the version the call went to (`''` when the entry has none); `null` when no version could take it (released handle, closed Glean, id not configured). */
  readonly version: string | null;
  /** The plugin file of that version, absolute; `null` as for `version`. */
  readonly file: string | null;
  /** The export called; `null` as for `version`. */
  readonly export: string | null;
  /** The method of an object export, or `null` for a function export. */
  readonly method: string | null;
  /** Whether the call was routed to the id's canary (see the README's "Gradual rollout"); `false` without one. */
  readonly canary: boolean;
  /**
   * The worker thread the call was sent to, set as it is sent; `null` until then, and for a call that
   * never reached a worker (refused, or timed out or aborted while queued). A call a drain-first
   * handover passed on names the successor's thread.
   */
  threadId: number | null;
  /** What the call resolved with (set before `asyncStart`). */
  result?: unknown;
  /** What the call rejected with (set before `error`): a {@link GleanError}, or the plugin's own error. */
  error?: unknown;
}

/** A `glean.reload` message: the `reload` event's payload, and the Glean that emitted it. */
export type ReloadMessage = ReloadEvent & { readonly glean: Glean };
/** A `glean.crash` message: the `crash` event's payload, and the Glean that emitted it. */
export type CrashMessage = CrashEvent & { readonly glean: Glean };
/** A `glean.retire` message: the `retire` event's payload, and the Glean that emitted it. */
export type RetireMessage = RetireEvent & { readonly glean: Glean };
/** A `glean.rollback` message: the `rollback` event's payload, and the Glean that emitted it. */
export type RollbackMessage = RollbackEvent & { readonly glean: Glean };

/** Where a call is traced to once it is sent: what a worker's slot fills in. */
export interface CallTrace {
  threadId: number | null;
}

/** The `glean.call` tracing channel; check `hasSubscribers` before building a context. */
export const callChannel = tracingChannel<unknown, CallContext>(GleanChannel.CALL);

const EVENT_CHANNELS = {
  reload: channel(GleanChannel.RELOAD),
  crash: channel(GleanChannel.CRASH),
  retire: channel(GleanChannel.RETIRE),
  rollback: channel(GleanChannel.ROLLBACK),
} as const;

/** Publishes `event`'s payload with `glean` on its channel, when it has one and it has subscribers. */
export function publishEvent<K extends keyof GleanEvents>(glean: Glean, event: K, args: GleanEvents[K]): void {
  if (!Object.hasOwn(EVENT_CHANNELS, event)) return;
  const target = EVENT_CHANNELS[event as keyof typeof EVENT_CHANNELS];
  if (target.hasSubscribers) target.publish({ ...(args[0] as object), glean });
}

/** The context of one call to `id` going where `binding` says (a version's export, or the error it rejects with). */
export function callContext(
  glean: Glean | undefined,
  id: string,
  binding: Binding | GleanError,
  method: string | null,
): CallContext {
  if (binding instanceof GleanError)
    return { glean, id, version: null, file: null, export: null, method, canary: false, threadId: null };
  const { spec } = binding.pluginVersion;
  return {
    glean,
    id,
    version: spec.version,
    file: spec.file,
    export: binding.name,
    method,
    canary: binding.canary === true,
    threadId: null,
  };
}
