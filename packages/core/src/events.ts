import type { ExportKind } from '@glean/worker/protocol';
import type { GleanError } from './errors.js';

/** A plugin version as events and `status()` name it. */
export interface VersionInfo {
  /** Absolute path of the plugin file. */
  readonly file: string;
  /** The config's `version` text; `''` when absent. */
  readonly version: string;
  /** SHA-256 (hex) of the file's bytes when the version loaded. */
  readonly contentHash: string;
}

/** An id got its first version. */
export interface LoadEvent {
  readonly id: string;
  readonly kind: ExportKind;
  readonly to: VersionInfo;
}

/** An id moved to another version; live handles now call `to`. */
export interface ReloadEvent {
  readonly id: string;
  readonly from: VersionInfo;
  readonly to: VersionInfo;
}

/** A worker thread of a version died; its calls rejected `GLEAN_PLUGIN_CRASHED`. */
export interface CrashEvent {
  /** The ids the version serves; empty for a version already replaced (draining). */
  readonly ids: readonly string[];
  readonly version: VersionInfo;
  readonly threadId: number;
  readonly error: GleanError;
  /** `true` when the version crashed too often and turned `failed`. */
  readonly failed: boolean;
  /** `true` when a replacement worker is starting; `false` when the version failed, or was already replaced and drains (nothing restarts). */
  readonly restarting: boolean;
}

/** A version drained and its workers are gone. */
export interface RetireEvent {
  readonly version: VersionInfo;
}

/** An id was removed from the config; its live handles now reject `GLEAN_NOT_CONFIGURED`. */
export interface RemoveEvent {
  readonly id: string;
  readonly from: VersionInfo;
}

/** The events of a `Glean`, with their payloads. */
export interface GleanEvents {
  load: [LoadEvent];
  reload: [ReloadEvent];
  remove: [RemoveEvent];
  /** A reload failed (invalid config, failed load) and nothing changed; or the watcher failed. Logged when nobody listens. */
  error: [GleanError];
  crash: [CrashEvent];
  retire: [RetireEvent];
}

/** Event names as a table, for `glean.on(GleanEvent.RELOAD, …)`. */
export const GleanEvent = {
  LOAD: 'load',
  RELOAD: 'reload',
  REMOVE: 'remove',
  ERROR: 'error',
  CRASH: 'crash',
  RETIRE: 'retire',
} as const satisfies Record<string, keyof GleanEvents>;
export type GleanEvent = (typeof GleanEvent)[keyof typeof GleanEvent];
