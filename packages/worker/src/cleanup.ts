/**
 * A worker's cleanup, as the host asks for it once before the thread ends: the plugin file's own
 * `dispose` export first, then the functions its modules registered with `onDispose`, last
 * registered first. Every one runs, whatever the others did; what they threw comes back as data.
 */
import { takeLatestDispose } from './dispose.js';
import { findExport, type PluginModule } from './load.js';
import { type DisposeResult, describeThrown, serializeError } from './protocol.js';

/** The export glean calls as a plugin's cleanup, never through a handle. */
export const DISPOSE_EXPORT = 'dispose';

/** Runs the cleanup of the plugin `module` (none loaded: only what `onDispose` registered). Never rejects. */
export async function runCleanup(module: PluginModule | undefined, commonJS: boolean): Promise<DisposeResult> {
  const failures: unknown[] = [];
  const run = async (fn: () => unknown): Promise<void> => {
    try {
      await fn();
    } catch (error) {
      failures.push(error);
    }
  };
  await run(() => {
    if (module === undefined) return undefined;
    const found = findExport(module, DISPOSE_EXPORT, commonJS);
    if (!found.found) return undefined;
    const hook = found.value;
    if (typeof hook !== 'function')
      throw new TypeError(`export "${DISPOSE_EXPORT}" is ${hook === null ? 'null' : typeof hook}, not a function`);
    return Reflect.apply(hook, undefined, []);
  });
  // A function registered while the cleanup runs (by a dispose) runs too.
  for (let fn = takeLatestDispose(); fn !== undefined; fn = takeLatestDispose()) await run(fn);
  if (failures.length === 0) return { ok: true };
  const error =
    failures.length === 1
      ? failures[0]
      : new AggregateError(
          failures,
          `${failures.length} of the plugin's cleanup functions failed: ${failures.map((failure) => describeThrown(failure)).join('; ')}`,
          // Carried across as the cause: an AggregateError's `errors` list does not cross the thread.
          { cause: failures[0] },
        );
  return { ok: false, error: serializeError(error) };
}
