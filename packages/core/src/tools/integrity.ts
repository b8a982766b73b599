/**
 * `@glean/core/integrity` — the `integrity` values of glean's config (Subresource Integrity form,
 * `sha384-…`): compute one for a file's bytes, parse one, and verify bytes against it, as
 * `npx glean hash` and a `Glean` do.
 *
 * @module @glean/core/integrity
 */
export {
  DEFAULT_INTEGRITY_ALGORITHM,
  IntegrityAlgorithm,
  hashForIntegrity,
  parseIntegrity,
  verifyIntegrity,
} from '../integrity.js';
export type { Integrity, IntegrityHash, IntegrityResult } from '../integrity.js';
