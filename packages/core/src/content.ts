import { createHash } from 'node:crypto';
import { ErrorCode, GleanError, describePlugin } from './errors.js';
import { MAX_PLUGIN_FILE_BYTES, readProblem, readRegularFile } from './read-file.js';

/**
 * SHA-256 of a plugin file's bytes, in hex. A version is the file's content, not its name:
 * an edit saved to the same path is a new version, a `touch` is not.
 * `file` is a real path (a version's `realFile`): a final symlink is not followed, and only a regular
 * file of at most {@link MAX_PLUGIN_FILE_BYTES} is read.
 * Rejects `GLEAN_LOAD_FAILED` naming the file and the errno code, or why it was refused, when it cannot be read.
 */
export async function hashFile(file: string, id: string | undefined, version: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_PLUGIN_FILE_BYTES, { follow: false });
  } catch (error) {
    throw new GleanError(
      ErrorCode.LOAD_FAILED,
      `${describePlugin(id, file, version)}: cannot read the plugin file (${readProblem(error)})`,
      {
        cause: error,
        id,
        file,
        version,
      },
    );
  }
  return hashBytes(bytes);
}

/** SHA-256 of bytes, in hex: the identity of a plugin version's file content. */
export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
