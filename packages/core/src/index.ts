/**
 * @glean/core — hot-reloadable plugins for Node.js. Plugin symbols are addressed by id in a
 * glean config, loaded as handles, and every plugin version runs in worker threads of its own.
 */
export { Glean } from './glean.js';
export type { FindQuery, GleanOptions, PluginStatus } from './glean.js';
export type { Logger } from './logger.js';
export { loadSymbol, release } from './load-symbol.js';
export type { LoadSymbolOptions } from './load-symbol.js';
export { ErrorCode, GleanError, isGleanError } from './errors.js';
export type { GleanErrorOptions } from './errors.js';
export { GleanEvent } from './events.js';
export type {
  CrashEvent,
  GleanEvents,
  LoadEvent,
  ReloadEvent,
  RemoveEvent,
  RetireEvent,
  VersionInfo,
} from './events.js';
export { withOptions } from './handle.js';
export type { AsyncFunction, Handle, HandleControls, MethodKeys, ObjectHandle, ValueHandle } from './handle.js';
export type { CallOptions } from './call-options.js';
export { ConfigFileSchema, ConfigIssueCode, DEFAULT_PLUGIN_OPTIONS, parseConfig, readConfig } from './config.js';
export type { ConfigIssue, EnvOption, GleanConfig, PluginEntry, PluginOptions, ResourceLimits } from './config.js';
export {
  DEFAULT_INTEGRITY_ALGORITHM,
  IntegrityAlgorithm,
  hashForIntegrity,
  parseIntegrity,
  verifyIntegrity,
} from './integrity.js';
export type { Integrity, IntegrityHash, IntegrityResult } from './integrity.js';
export { diffPlugins } from './diff.js';
export type { PluginDiff, PluginSpec } from './diff.js';
export { CRASH_LIMIT, CRASH_WINDOW_MS, VersionState } from './version.js';
export { EXIT_TIMEOUT_MS, LIVENESS_GRACE_MS } from './slot.js';
export { MAX_CONFIG_BYTES, MAX_PLUGIN_FILE_BYTES } from './read-file.js';
export { ExportKind, TRANSFER, transfer } from '@glean/worker/protocol';
export type { Transferable } from '@glean/worker/protocol';
