/**
 * What a worker's failure means to a caller: every mapping from something a worker reported, or
 * how it ended, to the coded {@link GleanError} the host rejects with lives here.
 */
import { describeThrown, deserializeError, describeValue, type WireFailure } from '@glean/worker/protocol';
import { ErrorCode, GleanError } from './errors.js';
import { type PluginRef, describePlugin, pluginError } from './plugin-ref.js';

/** A failure the worker reported for a load, a describe or a call. */
export function failureToError(failure: WireFailure, plugin: PluginRef): GleanError {
  switch (failure.reason) {
    case 'not-found':
      return pluginError(ErrorCode.SYMBOL_NOT_FOUND, plugin, failure.message);
    case 'not-cloneable':
      return pluginError(ErrorCode.NOT_CLONEABLE, plugin, failure.message);
    case 'class-export':
      return pluginError(ErrorCode.CLASS_EXPORT, plugin, failure.message);
    case 'load-failed':
      return pluginError(ErrorCode.LOAD_FAILED, plugin, failure.message, { cause: deserializeError(failure.error) });
    case 'thrown':
      return threw(plugin, describeValue(failure.error.value ?? failure.error.message), {
        cause: failure.error.isError ? deserializeError(failure.error) : undefined,
        thrown: failure.error.value,
      });
  }
}

/**
 * What a call rejects with when the plugin failed it: the plugin's own error, rebuilt, when it threw
 * an Error (its class, message, stack, code and properties); `GLEAN_PLUGIN_THREW` with the value
 * when it threw something else; the coded error of any other failure.
 */
export function callFailure(failure: WireFailure, plugin: PluginRef): Error {
  if (failure.reason !== 'thrown') return failureToError(failure, plugin);
  if (failure.error.isError) return deserializeError(failure.error);
  return threw(plugin, `a non-Error value: ${failure.error.message}`, { thrown: failure.error.value });
}

function threw(plugin: PluginRef, what: string, options: { cause?: unknown; thrown: unknown }): GleanError {
  return new GleanError(ErrorCode.PLUGIN_THREW, `${describePlugin(plugin)} threw ${what}`, {
    ...options,
    id: plugin.id,
    file: plugin.file,
    version: plugin.version,
  });
}

/** How a worker ended, for people: the uncaught error when there is one, and the exit code. */
export function deathDetail(error: unknown, exitCode: number | undefined): string {
  const code = exitCode === undefined ? '' : ` (exit code ${exitCode})`;
  if (error instanceof Error && !/^worker exited with code/.test(error.message) && error.name !== 'AbortError') {
    return `${error.name}: ${error.message}${code}`;
  }
  if (exitCode !== undefined) return `exited with code ${exitCode}`;
  return error instanceof Error ? error.message : 'stopped';
}

/** How a worker's end is told: `crashed`, or `was stopped` when the host asked it to stop. */
export type EndVerb = 'crashed' | 'was stopped';

/** A worker thread ended: `GLEAN_PLUGIN_CRASHED` for the slot, and (`duringCall`) for each call that was on it. */
export function endError(
  plugin: PluginRef,
  threadId: number,
  end: { verb: EndVerb; how: string; cause: unknown; exitCode: number | undefined },
  duringCall = false,
): GleanError {
  const when = duringCall ? ' during the call' : '';
  return pluginError(ErrorCode.PLUGIN_CRASHED, plugin, `worker thread ${threadId} ${end.verb}${when}: ${end.how}`, {
    cause: end.cause,
    exitCode: end.exitCode,
  });
}

/** The worker broke glean's protocol (plugin code reached one of its ports): `GLEAN_PLUGIN_CRASHED` naming what it did. */
export function protocolBreach(plugin: PluginRef, threadId: number, what: string): GleanError {
  return pluginError(ErrorCode.PLUGIN_CRASHED, plugin, `worker thread ${threadId} broke glean's protocol: it ${what}`);
}

/**
 * A load that did not succeed, as `start()` rejects: a coded failure the worker reported stays as it
 * is; a crash, a timeout or anything else becomes `GLEAN_LOAD_FAILED` with the reason.
 */
export function loadError(plugin: PluginRef, error: unknown, crashDetail: string): GleanError {
  const crashed = error instanceof GleanError && error.code === ErrorCode.PLUGIN_CRASHED;
  if (error instanceof GleanError && !crashed && error.code !== ErrorCode.TIMEOUT) return error;
  // A crash found while loading (a protocol breach) may come before the thread's end says how it died.
  const why = crashed && crashDetail !== '' ? `the worker ${crashDetail}` : describeThrown(error);
  return pluginError(ErrorCode.LOAD_FAILED, plugin, `cannot load: ${why}`, { cause: error });
}
