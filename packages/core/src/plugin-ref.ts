import { describeValue } from '@glean/worker/protocol';
import { ErrorCode, GleanError, type GleanErrorOptions } from './errors.js';

/**
 * Which plugin something concerns, the one shape every message and error names it by: the id that
 * asked for it (absent for a version shared by several ids, or a standalone `loadSymbol`), its
 * file (absolute) and its version text (`''` when none is configured).
 */
export interface PluginRef {
  readonly id?: string | undefined;
  readonly file: string;
  readonly version: string;
}

/** How a plugin is named in messages: `plugin "FooHandlerID" (plugins/plugin1/index.ts@1.0)`, or `plugin plugins/x.mjs@1.0` without an id. */
export function describePlugin(plugin: PluginRef): string {
  const shown = displayPath(plugin.file);
  const at = plugin.version === '' ? shown : `${shown}@${plugin.version}`;
  return plugin.id === undefined ? `plugin ${at}` : `plugin "${plugin.id}" (${at})`;
}

/** Options of a plugin's error besides the plugin itself. */
export type PluginErrorOptions = Omit<GleanErrorOptions, 'id' | 'file' | 'version'>;

/**
 * The one way glean makes an error about a plugin: the message starts with {@link describePlugin},
 * and the error carries the plugin's `id`, `file` and `version`.
 */
export function pluginError(
  code: ErrorCode,
  plugin: PluginRef,
  detail: string,
  options: PluginErrorOptions = {},
): GleanError {
  return new GleanError(code, `${describePlugin(plugin)}: ${detail}`, {
    ...options,
    id: plugin.id,
    file: plugin.file,
    version: plugin.version,
  });
}

/** The same plugin, named for the id `id` (a call's or a load's): errors of a shared version name the id that met them. */
export function forId(plugin: PluginRef, id: string | undefined): PluginRef {
  return { id, file: plugin.file, version: plugin.version };
}

/** `GLEAN_ABORTED` for a call whose signal aborted, with the signal's reason as `cause`. */
export function abortedError(plugin: PluginRef, signal: AbortSignal): GleanError {
  const reason: unknown = signal.reason;
  const text = reason instanceof Error ? reason.message : describeValue(reason);
  return pluginError(ErrorCode.ABORTED, plugin, `the call was aborted: ${text}`, { cause: reason });
}

/** A path relative to the working folder when it is inside it, absolute otherwise. */
export function displayPath(file: string): string {
  const cwd = process.cwd();
  return file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file;
}
