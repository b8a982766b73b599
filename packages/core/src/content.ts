import { createHash } from 'node:crypto';
import { ErrorCode } from './errors.js';
import { type PluginRef, pluginError } from './plugin-ref.js';
import { MAX_PLUGIN_FILE_BYTES, readProblem, readRegularFile } from './read-file.js';

/**
 * A plugin file's bytes, read again (a version's restart checks them). `file` is a real path (a
 * version's `realFile`): a final symlink is not followed, and only a regular file of at most
 * {@link MAX_PLUGIN_FILE_BYTES} is read. `plugin` names the plugin in errors. Rejects
 * `GLEAN_LOAD_FAILED` naming the file and the errno code, or why it was refused, when it cannot be read.
 */
export async function readPluginBytes(file: string, plugin: Omit<PluginRef, 'file'>): Promise<Buffer> {
  try {
    return await readRegularFile(file, MAX_PLUGIN_FILE_BYTES, { follow: false });
  } catch (error) {
    throw pluginError(
      ErrorCode.LOAD_FAILED,
      { id: plugin.id, file, version: plugin.version },
      `cannot read the plugin file (${readProblem(error)})`,
      { cause: error },
    );
  }
}

/** SHA-256 of bytes, in hex: the identity of a plugin version's file content. */
export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
