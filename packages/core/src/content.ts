import { createHash } from 'node:crypto';

/** SHA-256 of bytes, in hex: the identity of a plugin version's file content. */
export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
