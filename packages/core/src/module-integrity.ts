/**
 * Which plugin-owned modules may run: with a lockfile, those it lists with matching bytes; with
 * `requireIntegrity` and no lockfile, none but plugin files with an `integrity` of their own; with
 * neither, all. One rule for a version's plugin file (checked when the config is read) and for every
 * module it loads later (checked by its module graph before a byte is served).
 */
import { ErrorCode, type GleanError } from './errors.js';
import { checkIntegrity } from './integrity.js';
import type { Lock, LockKeys } from './lockfile.js';
import { type PluginRef, pluginError } from './plugin-ref.js';

/** What a version's modules are checked against. */
export interface ModuleIntegrity {
  /** The lockfile, when one is in use. */
  readonly lock: Lock | undefined;
  /** `requireIntegrity`: a module with nothing to check it against is refused. */
  readonly required: boolean;
  /** A module's key in the lockfile (see `lockKeysFor`). */
  readonly key: LockKeys;
}

/**
 * Checks a module's bytes (read from `realPath`) before they run: throws `GLEAN_INTEGRITY_MISMATCH`
 * when the lockfile lists other bytes, `GLEAN_INTEGRITY_REQUIRED` when a lockfile in use does not
 * list it or, without one, when `required`. `plugin` names the version in the errors.
 */
export function checkModule(bytes: Uint8Array, realPath: string, plugin: PluginRef, rule: ModuleIntegrity): void {
  const { lock, required } = rule;
  const key = rule.key(realPath);
  const expected = lock?.modules.get(key);
  if (expected !== undefined) {
    checkIntegrity(bytes, { ...plugin, file: realPath, integrity: expected, from: lock?.file });
    return;
  }
  if (lock === undefined && !required) return;
  throw notLocked(realPath, key, plugin, lock);
}

function notLocked(realPath: string, key: string, plugin: PluginRef, lock: Lock | undefined): GleanError {
  const why =
    lock === undefined
      ? 'requireIntegrity is on and no lockfile lists it'
      : `the lockfile ${lock.file} does not list it (as "${key}")`;
  return pluginError(
    ErrorCode.INTEGRITY_REQUIRED,
    { ...plugin, file: realPath },
    `the module ${realPath} is refused: ${why}; run npx glean lock once it holds the code you mean to run`,
  );
}
