import type { ExportKind } from '@glean/worker/protocol';
import type { GleanError } from './errors.js';
import type { RollbackReason } from './rollout/analysis.js';
import type { WindowFigures } from './rollout/window.js';

/** A plugin version as events and `status()` name it. */
export interface VersionInfo {
  /** Absolute path of the plugin file. */
  readonly file: string;
  /** The config's `version` text; `''` when absent. */
  readonly version: string;
  /** SHA-256 (hex) of the plugin file's bytes when the version loaded. */
  readonly contentHash: string;
  /** How many plugin-owned modules the version loaded (the plugin file included); grows with later dynamic imports. */
  readonly modules: number;
  /**
   * SHA-256 (hex) over every plugin-owned module the version loaded, by content, and the files that
   * decided how they resolve and compile (package.json, tsconfig.json, and files tried and not found).
   */
  readonly graphHash: string;
}

/** An id got its first version. */
export interface LoadEvent {
  /** The id, as the config names it. */
  readonly id: string;
  /** What its export is; its handles keep this kind. */
  readonly kind: ExportKind;
  /** The version now serving it. */
  readonly to: VersionInfo;
}

/** An id moved to another version; live handles now call `to`. */
export interface ReloadEvent {
  /** The id, as the config names it. */
  readonly id: string;
  /** The version that served it until now; it drains, then retires unless a pinned handle holds it. */
  readonly from: VersionInfo;
  /** The version serving it from now on. */
  readonly to: VersionInfo;
  /**
   * The files whose change made the new version, absolute and sorted: the plugin file, or modules and
   * config files of the old version's graph. Empty when only the config entry changed.
   */
  readonly changed: readonly string[];
}

/** A worker thread of a version died; its calls rejected `GLEAN_PLUGIN_CRASHED`. */
export interface CrashEvent {
  /** The ids the version serves, or runs the canary of; empty for a version already replaced (draining). */
  readonly ids: readonly string[];
  /** The version whose worker died. */
  readonly version: VersionInfo;
  /** The worker thread that died. */
  readonly threadId: number;
  /** `GLEAN_PLUGIN_CRASHED`, saying how it died (exit code, uncaught error, protocol breach, blocked event loop). */
  readonly error: GleanError;
  /** `true` when the version crashed too often and turned `failed`. */
  readonly failed: boolean;
  /** `true` when a replacement worker is starting; `false` when the version failed, or was already replaced and drains (nothing restarts). */
  readonly restarting: boolean;
}

/** A version drained and its workers are gone. */
export interface RetireEvent {
  /** The version that retired. */
  readonly version: VersionInfo;
}

/** An id was removed from the config; its live handles now reject `GLEAN_NOT_CONFIGURED`. */
export interface RemoveEvent {
  /** The id the config no longer names. */
  readonly id: string;
  /** The version that served it; it drains, then retires unless a pinned handle holds it. */
  readonly from: VersionInfo;
}

/**
 * A change whose config carried `activateAt` switched: announced with the switch's `load`, `reload`
 * and `remove` events, after them.
 */
export interface ActivateEvent {
  /** The config's `activateAt`, as written (an RFC 3339 time). */
  readonly activateAt: string;
  /** When the switch was made, in milliseconds since the epoch; never before `activateAt`. */
  readonly switchedAt: number;
  /**
   * 0 when every new version was ready before `activateAt` and the switch waited for it; otherwise
   * how many milliseconds after `activateAt` the switch came (the config was read, or its versions
   * ready, after the time).
   */
  readonly lateMs: number;
}

/** A canary started, or its weight changed (a step, or a config edit); weight 0 when the config dropped it. */
export interface CanaryEvent {
  /** The id whose calls the canary shares. */
  readonly id: string;
  /** The canary's config `version`. */
  readonly version: string;
  /** The canary's plugin file, absolute. */
  readonly file: string;
  /** The percentage of the id's calls it gets from now on. */
  readonly weight: number;
}

/** A config edit made the canary the id's stable version: its running workers serve every call now, with no reload. */
export interface PromoteEvent {
  readonly id: string;
  /** The promoted version's config `version`. */
  readonly version: string;
  readonly file: string;
}

/** Both versions' figures over the analysis window a verdict was reached on. */
export interface RolloutFigures {
  readonly stable: WindowFigures;
  readonly canary: WindowFigures;
}

/** A canary was rolled back: it takes no more calls, the ones in flight finish, its workers retire. */
export interface RollbackEvent {
  readonly id: string;
  /** The canary's config `version`. */
  readonly version: string;
  readonly file: string;
  /** Why: `error-rate`, `latency`, `crashes` (its workers crashed `CANARY_CRASH_LIMIT` times in a row) or `manual` (`glean.rollback()`). */
  readonly reason: RollbackReason;
  /** The same, as a sentence with the figures. */
  readonly detail: string;
  /** The window's figures when it was decided. */
  readonly figures: RolloutFigures;
}

/** A canary has had too few calls to be judged for `progressDeadlineMs`: it neither advances nor fails. */
export interface StalledEvent {
  readonly id: string;
  readonly version: string;
  readonly file: string;
  /** The canary's weight, unchanged. */
  readonly weight: number;
  /** How long it has waited for enough calls: since its last passing analysis (or its start), in ms. */
  readonly waitedMs: number;
  readonly figures: RolloutFigures;
}

/** The events of a `Glean`, with their payloads. */
export interface GleanEvents {
  /** An id got its first version. */
  load: [LoadEvent];
  /** An id moved to another version. */
  reload: [ReloadEvent];
  /** An id left the config. */
  remove: [RemoveEvent];
  /** A reload failed (invalid config, failed load) and nothing changed; or the watcher failed. Logged when nobody listens. */
  error: [GleanError];
  /** A worker thread of a version died. */
  crash: [CrashEvent];
  /** A version drained and its threads ended. */
  retire: [RetireEvent];
  /** A change with an `activateAt` switched, on time or late. */
  activate: [ActivateEvent];
  /** A canary started, or its weight changed. */
  canary: [CanaryEvent];
  /** A canary became the stable version. */
  promote: [PromoteEvent];
  /** A canary was rolled back. */
  rollback: [RollbackEvent];
  /** A canary has too few calls to be judged. */
  stalled: [StalledEvent];
}

/** Event names as a table, for `glean.on(GleanEvent.RELOAD, …)`. */
export const GleanEvent = {
  /** See {@link LoadEvent}. */
  LOAD: 'load',
  /** See {@link ReloadEvent}. */
  RELOAD: 'reload',
  /** See {@link RemoveEvent}. */
  REMOVE: 'remove',
  /** A failed reload, or a failed watcher: a `GleanError`. */
  ERROR: 'error',
  /** See {@link CrashEvent}. */
  CRASH: 'crash',
  /** See {@link RetireEvent}. */
  RETIRE: 'retire',
  /** See {@link ActivateEvent}. */
  ACTIVATE: 'activate',
  /** See {@link CanaryEvent}. */
  CANARY: 'canary',
  /** See {@link PromoteEvent}. */
  PROMOTE: 'promote',
  /** See {@link RollbackEvent}. */
  ROLLBACK: 'rollback',
  /** See {@link StalledEvent}. */
  STALLED: 'stalled',
} as const satisfies Record<string, keyof GleanEvents>;
/** One of the {@link GleanEvent} names. */
export type GleanEvent = (typeof GleanEvent)[keyof typeof GleanEvent];
