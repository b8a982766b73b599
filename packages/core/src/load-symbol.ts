import { resolve } from 'node:path';
import { DEFAULT_PLUGIN_OPTIONS, type PluginOptions } from './config.js';
import { checkedLoad, readPluginFile } from './plugin-files.js';
import { HandleState, createHandle, handleState, type Handle, type HandleOwner } from './handle.js';
import { Log, LogLine, errorFields } from './log.js';
import type { Logger } from './logger.js';
import { PluginVersion } from './version.js';
import { newCallStats } from './call-stats.js';
import { useCompiler } from './modules/compile.js';
import { rootURLOf } from './root.js';
import { EXIT_TIMEOUT_MS } from './slot.js';

/** Options of {@link loadSymbol}: the per-plugin options of a config entry, and a version label. */
export interface LoadSymbolOptions extends Partial<PluginOptions> {
  /** Free text naming the version in messages and events. Default `''`. */
  version?: string;
  /** Where worker crashes are written, as a Glean's `logger` (README, "Logs"). Default `console`; `false` for silence. */
  logger?: Logger | false;
}

/**
 * Loads export `name` of one plugin file, with no config and no watching, in worker threads of its
 * own. `file` is relative to the working folder. The handle is pinned to the file as it is now; it
 * keeps its workers until released with `release(handle)` (or `await using`), which drains its calls
 * and terminates them. Rejects `GLEAN_LOAD_FAILED` or `GLEAN_SYMBOL_NOT_FOUND`, leaving nothing running.
 */
export async function loadSymbol<T = unknown>(
  file: string,
  name: string,
  options: LoadSymbolOptions = {},
): Promise<Handle<T>> {
  const { version: text = '', logger: given, ...overrides } = options;
  const log = new Log(given);
  const absolute = resolve(file);
  const pluginOptions: PluginOptions = { ...DEFAULT_PLUGIN_OPTIONS, ...definedOnly(overrides) };
  // No root: the caller named the file. Its bytes are read once, checked, and are what its workers run.
  const read = await readPluginFile(absolute, '/', { version: text });
  const load = checkedLoad(read, { file: absolute, version: text, integrity: pluginOptions.integrity });
  const { contentHash } = read;
  const releaseCompiler = useCompiler();
  const version = new PluginVersion(
    {
      key: `standalone:${absolute}:${contentHash}`,
      id: undefined,
      file: absolute,
      realFile: load.file,
      version: text,
      contentHash,
      options: pluginOptions,
      bytes: load.bytes,
      root: '/',
      rootURL: rootURLOf('/'),
      integrity: { lock: undefined, required: false, key: (realPath) => realPath },
    },
    {
      onCrash: ({ error, threadId, restarting, failed }) =>
        log.write(LogLine.WORKER_CRASHED, { ...errorFields(error), threadId, restarting, failed }),
      onRetire: () => void releaseCompiler(),
      // Nothing watches a standalone plugin.
      onGraphGrew: () => {},
      onStuck: (_version, threadIds) =>
        log.write(LogLine.THREADS_STUCK, { version: text, file: absolute, threadIds, exitTimeoutMs: EXIT_TIMEOUT_MS }),
      onDisposeFailed: (_version, error) => log.write(LogLine.DISPOSE_FAILED, errorFields(error)),
    },
  );
  try {
    await version.start([name]);
  } catch (error) {
    await releaseCompiler();
    throw error;
  }
  const description = version.description(name)!;
  const stats = newCallStats(name);
  const binding = { pluginVersion: version, name, description };
  const owner: HandleOwner = {
    available: () => undefined,
    stats: () => stats,
    // The handle is pinned to `binding` until released, and a released handle asks nothing.
    current: () => binding,
  };
  return createHandle(new HandleState(name, description.kind, owner, binding)) as Handle<T>;
}

/**
 * Releases any handle: from `loadSymbol` (its workers drain and terminate), or from a `Glean`
 * (as `glean.release`). Later calls reject `GLEAN_RELEASED`. Idempotent. Resolves once the workers
 * the handle alone kept alive have exited.
 */
export function release(handle: unknown): Promise<void> {
  const state = handleState(handle);
  if (state === undefined) throw new TypeError('release() expects a handle from loadSymbol, reload or reloadAndWatch');
  return state.release();
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
