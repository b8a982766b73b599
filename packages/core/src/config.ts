/**
 * The config file: read it, parse it, validate it. What glean and the tests import; the work is under
 * config/: options.ts (option types, defaults, merging, identity), canary.ts (a canary's types,
 * defaults, merging, rollout identity), schema.ts (the zod schema), parse.ts (text to a validated
 * config or every problem), canary-rules.ts (a canary's cross-field rules), issues.ts (how problems read),
 * json-positions.ts (where paths and syntax errors sit in the text), near-miss.ts ("did you mean").
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ErrorCode, GleanError } from './errors.js';
import { MAX_CONFIG_BYTES, RefusedFileError, readRegularFile } from './read-file.js';
import { parseConfig, type GleanConfig } from './config/parse.js';

export {
  DEFAULT_PLUGIN_OPTIONS,
  RESOURCE_LIMIT_RANGES,
  optionsKey,
  pluginOptionsEqual,
  type EnvOption,
  type HandoverOption,
  type PluginOptions,
  type ResourceLimits,
} from './config/options.js';
export {
  DEFAULT_CANARY_ANALYSIS,
  rolloutKey,
  type CanaryEntry,
  type CanaryRollout,
} from './config/canary.js';
export { ConfigFileSchema } from './config/schema.js';
export { parseConfig, type ActivateAt, type GleanConfig, type PluginEntry } from './config/parse.js';
export { ConfigIssueCode, type ConfigIssue } from './config/issues.js';

/**
 * Reads then parses. The config must be a regular file (a symlink to one is followed) of at most
 * {@link MAX_CONFIG_BYTES}; a FIFO or a device is refused without waiting on it. Throws GleanError
 * CONFIG_UNREADABLE naming the path and the errno code (ENOENT, EISDIR, EACCES, ELOOP, …), or what the
 * file is ("a FIFO, not a regular file") or its size over the limit.
 */
export async function readConfig(configPath: string): Promise<GleanConfig> {
  return (await readHashedConfig(configPath)).config;
}

/**
 * {@link readConfig}, with the SHA-256 (hex) of the very bytes it parsed: what a generation that
 * applies the config keeps as `Glean.generation`. Throws as readConfig does.
 */
export async function readHashedConfig(configPath: string): Promise<{ config: GleanConfig; hash: string }> {
  const file = path.resolve(configPath);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_CONFIG_BYTES, { follow: true });
  } catch (error) {
    if (error instanceof RefusedFileError) {
      throw new GleanError(ErrorCode.CONFIG_UNREADABLE, `config ${file} is unreadable: ${error.reason}`, {
        cause: error,
      });
    }
    const { code, message } = error as NodeJS.ErrnoException;
    // "ENOENT: no such file or directory, open '/x'" and "EISDIR: illegal operation on a directory, read" → the middle part
    const what = /^[A-Z0-9_]+: (.*?)(?:, [a-z]+(?: '.*)?)?$/s.exec(message)?.[1] ?? message;
    throw new GleanError(ErrorCode.CONFIG_UNREADABLE, `config ${file} is unreadable: ${code ?? 'error'} (${what})`, {
      cause: error,
    });
  }
  return {
    config: parseConfig(bytes.toString('utf8'), configPath),
    hash: createHash('sha256').update(bytes).digest('hex'),
  };
}
