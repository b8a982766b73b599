/**
 * `@glean/core/config` — glean's config format as a tool: parse and validate a config file the way
 * a `Glean` does (for a CI check, an admin page, a config generator), its zod schema, and the pure
 * diff glean applies between two sets of plugins.
 *
 * @module @glean/core/config
 */
export {
  ConfigFileSchema,
  ConfigIssueCode,
  DEFAULT_CANARY_ANALYSIS,
  DEFAULT_PLUGIN_OPTIONS,
  parseConfig,
  readConfig,
  rolloutKey,
} from '../config.js';
export type {
  ActivateAt,
  CanaryEntry,
  CanaryRollout,
  ConfigIssue,
  EnvOption,
  GleanConfig,
  HandoverOption,
  PluginEntry,
  PluginOptions,
  ResourceLimits,
} from '../config.js';
export { diffPlugins } from '../diff.js';
export type { PluginDiff, PluginSpec } from '../diff.js';
export { MAX_CONFIG_BYTES } from '../read-file.js';
