import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ErrorCode, GleanError, describePlugin } from './errors.js';

/**
 * SHA-256 of a plugin file's bytes, in hex. A version is the file's content, not its name:
 * an edit saved to the same path is a new version, a `touch` is not.
 * Rejects `GLEAN_LOAD_FAILED` naming the file and the errno code when it cannot be read.
 */
export async function hashFile(file: string, id: string | undefined, version: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new GleanError(ErrorCode.LOAD_FAILED, `${describePlugin(id, file, version)}: cannot read the plugin file (${code})`, {
      cause: error,
      id,
      file,
      version,
    });
  }
  return hashBytes(bytes);
}

/** SHA-256 of bytes, in hex: the identity of a plugin version's file content. */
export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
