import type { GleanConfig } from './config.js';
import { hashBytes } from './content.js';
import type { PluginSpec } from './diff.js';
import type { CanarySpec } from './rollout/canary.js';
import { checkIntegrity, type IntegrityCheck } from './integrity.js';
import { type ModuleIntegrity, checkModule } from './module-integrity.js';
import { readConfined, type ConfinedFile, type ConfinedPlugin } from './root.js';

/** What a version's workers import first: the file's real path and the bytes read and checked. */
export interface EntryRead {
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** A config entry with its file read: what identifies its version, and what its workers import. */
export interface ReadPlugin {
  readonly spec: PluginSpec;
  readonly load: EntryRead;
  /** The file was empty when read: a file written in place is, for a moment. */
  readonly empty: boolean;
  /** The entry's `canary`, its file read the same way; `undefined` without one. */
  readonly canary: ReadCanary | undefined;
}

/** A config entry's canary with its file read. */
export interface ReadCanary {
  readonly spec: CanarySpec;
  readonly load: EntryRead;
  readonly empty: boolean;
}

/**
 * Reads every plugin file of `config` once, confined to `root`, checks each entry's integrity, and
 * identifies it by the hash of the bytes read: its workers run exactly these bytes, with or without
 * `integrity`. An entry without `integrity` of its own is checked against the lockfile of `rule`,
 * when one is in use. Rejects with the first coded error (`GLEAN_OUTSIDE_ROOT`,
 * `GLEAN_LOAD_FAILED`, `GLEAN_INTEGRITY_MISMATCH`, `GLEAN_INTEGRITY_REQUIRED`). `holdEmpty`: an
 * empty file is marked `empty` and not checked (the caller holds the run back and reads again).
 */
export function readPlugins(
  config: GleanConfig,
  root: string,
  rule: ModuleIntegrity,
  holdEmpty = false,
): Promise<ReadPlugin[]> {
  // Ids (and canaries) naming the same file share one read and one hash.
  const reads = new Map<string, Promise<PluginFile>>();
  const readOnce = (file: string, plugin: ConfinedPlugin): Promise<PluginFile> => {
    let read = reads.get(file);
    if (read === undefined) {
      read = readPluginFile(file, root, plugin);
      reads.set(file, read);
    }
    return read;
  };
  // Held back, an empty file is not checked: a file written in place is empty for a moment, and
  // its integrity is checked on the look again, once it holds what was written.
  const loadOf = (file: PluginFile, check: IntegrityCheck): EntryRead =>
    holdEmpty && file.bytes.length === 0
      ? { file: file.realPath, bytes: file.bytes }
      : checkedLoad(file, { ...check, required: rule.required }, rule);
  return Promise.all(
    config.plugins.map(async (entry): Promise<ReadPlugin> => {
      const { id, version, canary } = entry;
      const file = await readOnce(entry.file, { id, version });
      const load = loadOf(file, { file: entry.file, id, version, integrity: entry.options.integrity });
      let read: ReadCanary | undefined;
      if (canary !== undefined) {
        const own = await readOnce(canary.file, { id, version: canary.version });
        read = {
          spec: {
            id,
            file: canary.file,
            name: canary.name,
            version: canary.version,
            options: canary.options,
            contentHash: own.contentHash,
            rollout: canary.rollout,
          },
          load: loadOf(own, { file: canary.file, id, version: canary.version, integrity: canary.options.integrity }),
          empty: own.bytes.length === 0,
        };
      }
      return {
        spec: {
          id,
          file: entry.file,
          name: entry.name,
          version,
          options: entry.options,
          contentHash: file.contentHash,
        },
        load,
        empty: file.bytes.length === 0,
        canary: read,
      };
    }),
  );
}

/** A plugin file read once, confined: its real path, its bytes, and the SHA-256 that identifies its version. */
export interface PluginFile extends ConfinedFile {
  readonly contentHash: string;
}

/** Reads `file` confined to `root` (see readConfined) and hashes what was read. */
export async function readPluginFile(file: string, root: string, plugin: ConfinedPlugin): Promise<PluginFile> {
  const read = await readConfined(file, root, plugin);
  return { ...read, contentHash: hashBytes(read.bytes) };
}

/**
 * Checks the bytes read against the entry's `integrity`, or without one against the lockfile of
 * `rule` when one is in use (throwing the coded error), and says what its workers import: those bytes.
 */
export function checkedLoad(file: PluginFile, check: IntegrityCheck, rule?: ModuleIntegrity): EntryRead {
  if (check.integrity === undefined && rule?.lock !== undefined)
    checkModule(file.bytes, file.realPath, { id: check.id, file: check.file, version: check.version ?? '' }, rule);
  else checkIntegrity(file.bytes, check);
  return { file: file.realPath, bytes: file.bytes };
}
