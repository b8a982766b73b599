import { isTypeScriptFile, type PrepareOptions } from '@glean/worker/protocol';
import type { GleanConfig } from './config.js';
import { hashBytes } from './content.js';
import type { PluginSpec } from './diff.js';
import { checkIntegrity } from './integrity.js';
import { readConfined, type ConfinedFile } from './root.js';
import type { SlotLoad } from './slot.js';

/** A config entry with its file read: what identifies its version, and what its workers import. */
export interface ReadPlugin {
  readonly spec: PluginSpec;
  readonly load: SlotLoad;
  /** The file was empty when read: a file written in place is, for a moment. */
  readonly empty: boolean;
}

/**
 * Reads every plugin file of `config` once, confined to `root`, checks each entry's integrity, and
 * identifies it by the hash of the bytes read. An entry with `integrity` pins those bytes: its
 * workers run exactly what was checked. Rejects with the first coded error (`GLEAN_OUTSIDE_ROOT`,
 * `GLEAN_LOAD_FAILED`, `GLEAN_INTEGRITY_MISMATCH`, `GLEAN_INTEGRITY_REQUIRED`).
 */
export function readPlugins(config: GleanConfig, root: string, requireIntegrity: boolean): Promise<ReadPlugin[]> {
  // Ids naming the same file share one read and one hash.
  const reads = new Map<string, Promise<ConfinedFile & { contentHash: string }>>();
  return Promise.all(
    config.plugins.map(async (entry): Promise<ReadPlugin> => {
      let read = reads.get(entry.file);
      if (read === undefined) {
        read = readConfined(entry.file, root, { id: entry.id, version: entry.version }).then((file) => ({ ...file, contentHash: hashBytes(file.bytes) }));
        reads.set(entry.file, read);
      }
      const { realPath, bytes, contentHash } = await read;
      const { integrity } = entry.options;
      checkIntegrity(bytes, { file: entry.file, id: entry.id, version: entry.version, integrity, required: requireIntegrity });
      return {
        spec: { id: entry.id, file: entry.file, name: entry.name, version: entry.version, options: entry.options, contentHash },
        load: { file: realPath, source: integrity === undefined ? undefined : bytes },
        empty: bytes.length === 0,
      };
    }),
  );
}

/** The module hooks a worker for `spec` needs before it loads the file. */
export function prepareFor(spec: PluginSpec): PrepareOptions {
  return { typescript: isTypeScriptFile(spec.file), pinned: spec.options.integrity !== undefined };
}
