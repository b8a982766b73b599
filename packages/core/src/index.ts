/**
 * @glean/core — hot-reloadable plugins for Node.js. Plugin symbols are addressed by id in a
 * glean config, loaded as handles, and every plugin version runs in worker threads of its own.
 *
 * This entry holds what an application uses. Tools and numbers live in subpaths:
 * `@glean/core/config` (parse, validate and diff configs), `@glean/core/integrity` (integrity
 * values), `@glean/core/limits` (glean's fixed limits), `@glean/core/http`, `/express`, `/fastify`
 * (HTTP adapters).
 *
 * @module @glean/core
 */
export { Glean } from './glean.js';
export type { GleanOptions } from './glean.js';
export type { FindQuery, PluginStatus } from './registry.js';
export type { Logger } from './logger.js';
export { loadSymbol, release } from './load-symbol.js';
export type { LoadSymbolOptions } from './load-symbol.js';
export type { EnvOption, HandoverOption, PluginOptions, ResourceLimits } from './config.js';
export { ErrorCode, GleanError, isGleanError } from './errors.js';
export type { GleanErrorOptions } from './errors.js';
export { ConfigIssueCode } from './config.js';
export type { ConfigIssue } from './config.js';
export { GleanEvent } from './events.js';
export type {
  ActivateEvent,
  CanaryEvent,
  CrashEvent,
  GleanEvents,
  LoadEvent,
  PromoteEvent,
  ReloadEvent,
  RemoveEvent,
  RetireEvent,
  RollbackEvent,
  RolloutFigures,
  StalledEvent,
  VersionInfo,
} from './events.js';
export type { CanaryState, CanaryStatus } from './rollout/canary.js';
export { RollbackReason } from './rollout/analysis.js';
export type { WindowFigures } from './rollout/window.js';
export { GleanChannel } from './channels.js';
export type { CallContext, CrashMessage, ReloadMessage, RetireMessage, RollbackMessage } from './channels.js';
export { withOptions } from './handle.js';
export type {
  AsyncFunction,
  Handle,
  HandleControls,
  MethodKeys,
  ObjectHandle,
  ResultStream,
  Streamed,
  ValueHandle,
} from './handle.js';
export type { CallOptions } from './call-options.js';
export { ExportKind, TRANSFER, transfer } from '@glean/worker/protocol';
export type { Transferable } from '@glean/worker/protocol';
