/**
 * Subresource Integrity (SRI) values for plugin files: `sha384-<base64 digest>`, as in a browser's
 * `<script integrity>` (https://www.w3.org/TR/SRI/). Pure: no files are read here; the caller hands
 * over the bytes it is about to run, so the bytes checked are the bytes that run.
 */
import { createHash } from 'node:crypto';
import { ErrorCode } from './errors.js';
import { pluginError } from './plugin-ref.js';

/** The hash algorithms an integrity value may name, weakest first, as in SRI. */
export const IntegrityAlgorithm = {
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
} as const;
/** One of `'sha256'`, `'sha384'`, `'sha512'`. */
export type IntegrityAlgorithm = (typeof IntegrityAlgorithm)[keyof typeof IntegrityAlgorithm];

/**
 * What `glean hash` and {@link hashForIntegrity} produce unless told otherwise: `sha384`, the
 * algorithm the SRI spec's examples and the common generators use. It is as strong as needed
 * (192-bit collision resistance), and its 64-character value is shorter than sha512's 88.
 */
export const DEFAULT_INTEGRITY_ALGORITHM: IntegrityAlgorithm = IntegrityAlgorithm.SHA384;

/** Digest length in bytes, by algorithm; also their strength order. */
const DIGEST_BYTES: Readonly<Record<IntegrityAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 };
const ALGORITHMS = Object.keys(DIGEST_BYTES) as IntegrityAlgorithm[];

/** One `<algorithm>-<base64 digest>` of an integrity value. */
export interface IntegrityHash {
  readonly algorithm: IntegrityAlgorithm;
  /** The digest, standard base64 with padding. */
  readonly digest: string;
  /** `<algorithm>-<digest>`, as written. */
  readonly value: string;
}

/** A parsed integrity value: one or more hashes, of which only the strongest algorithm's count. */
export interface Integrity {
  /** Every hash, in the order written. */
  readonly hashes: readonly IntegrityHash[];
  /** The strongest algorithm present; hashes of weaker ones are ignored, as SRI does. */
  readonly algorithm: IntegrityAlgorithm;
  /** The hashes of {@link Integrity.algorithm}: bytes match when they match any of them. */
  readonly expected: readonly IntegrityHash[];
}

/** The outcome of {@link verifyIntegrity}. */
export type IntegrityResult =
  | {
      readonly ok: true;
      /** The algorithm checked. */
      readonly algorithm: IntegrityAlgorithm;
      /** The bytes' own value in that algorithm: the expected hash that matched. */
      readonly actual: string;
    }
  | {
      readonly ok: false;
      readonly algorithm: IntegrityAlgorithm;
      /** The values the bytes had to match (the strongest algorithm's). */
      readonly expected: readonly string[];
      /** The bytes' own value in that algorithm. */
      readonly actual: string;
    };

/** The plugin an integrity check concerns, for its error messages. */
export interface IntegrityCheck {
  /** The file the bytes were read from (absolute). */
  readonly file: string;
  /** The plugin id, when there is one. */
  readonly id?: string | undefined;
  /** The plugin version text; default `''`. */
  readonly version?: string | undefined;
  /** The configured integrity value, if any. */
  readonly integrity: string | undefined;
  /** Refuse bytes with no configured integrity (the `requireIntegrity` option). Default `false`. */
  readonly required?: boolean | undefined;
  /** Where `integrity` was written, when not in the plugin's config entry: the lockfile's path, named in messages. */
  readonly from?: string | undefined;
}

// SRI's base64-value: standard alphabet, at most two "=" of padding.
const HASH = /^(?<algorithm>[A-Za-z0-9]+)-(?<digest>[A-Za-z0-9+/]*={0,2})$/;

/**
 * What is wrong with an integrity value, for people, or `undefined` when it is valid. Stricter than a
 * browser, which ignores what it does not understand: a config typo must not turn a check off. So
 * every space-separated hash must name sha256, sha384 or sha512 and carry a full-length digest, and
 * SRI's `?options` suffixes, which mean nothing yet, are refused rather than ignored.
 */
export function integrityProblem(value: string): string | undefined {
  const parts = value.split(/\s+/).filter((part) => part !== '');
  if (parts.length === 0) return 'expected at least one "<algorithm>-<base64 digest>", received an empty string';
  for (const part of parts) {
    const problem = hashProblem(part);
    if (problem !== undefined) return parts.length === 1 ? problem : `${JSON.stringify(shorten(part))}: ${problem}`;
  }
  return undefined;
}

function hashProblem(part: string): string | undefined {
  if (part.includes('?')) return 'SRI options ("?…") are not supported';
  const match = HASH.exec(part);
  if (match?.groups === undefined) {
    return /^[A-Za-z0-9]+-/.test(part)
      ? 'the digest is not base64 (A–Z, a–z, 0–9, "+", "/", "=" padding)'
      : 'expected "<algorithm>-<base64 digest>", such as "sha384-…"';
  }
  const { algorithm = '', digest = '' } = match.groups;
  if (!isAlgorithm(algorithm))
    return `unsupported algorithm ${JSON.stringify(algorithm)}; use sha256, sha384 or sha512`;
  const bytes = DIGEST_BYTES[algorithm];
  const length = Math.ceil(bytes / 3) * 4;
  if (digest.length !== length || Buffer.from(digest, 'base64').toString('base64') !== digest) {
    return `a ${algorithm} digest is ${length} base64 characters (${bytes} bytes), received ${digest.length}`;
  }
  return undefined;
}

/** Parses an integrity value (one or more space-separated hashes). Throws a TypeError naming the problem for an invalid one. */
export function parseIntegrity(value: string): Integrity {
  const problem = integrityProblem(value);
  if (problem !== undefined) throw new TypeError(`invalid integrity ${JSON.stringify(shorten(value))}: ${problem}`);
  const hashes = value
    .split(/\s+/)
    .filter((part) => part !== '')
    .map((part): IntegrityHash => {
      const dash = part.indexOf('-');
      return { algorithm: part.slice(0, dash) as IntegrityAlgorithm, digest: part.slice(dash + 1), value: part };
    });
  const algorithm = hashes.reduce<IntegrityAlgorithm>(
    (best, { algorithm: candidate }) => (DIGEST_BYTES[candidate] > DIGEST_BYTES[best] ? candidate : best),
    IntegrityAlgorithm.SHA256,
  );
  return { hashes, algorithm, expected: hashes.filter((hash) => hash.algorithm === algorithm) };
}

/** The integrity value of `bytes`: `<algorithm>-<base64 digest>`, what `glean hash` prints. */
export function hashForIntegrity(
  bytes: Uint8Array,
  algorithm: IntegrityAlgorithm = DEFAULT_INTEGRITY_ALGORITHM,
): string {
  if (!isAlgorithm(algorithm))
    throw new TypeError(`unsupported integrity algorithm ${JSON.stringify(algorithm)}; use sha256, sha384 or sha512`);
  return `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;
}

/** Checks `bytes` against an integrity value (or a parsed one): they match when their hash equals any hash of its strongest algorithm. */
export function verifyIntegrity(bytes: Uint8Array, integrity: string | Integrity): IntegrityResult {
  const { algorithm, expected } = typeof integrity === 'string' ? parseIntegrity(integrity) : integrity;
  const actual = hashForIntegrity(bytes, algorithm);
  // Digests are public (they sit in the config), so a plain comparison leaks nothing.
  if (expected.some((hash) => hash.value === actual)) return { ok: true, algorithm, actual };
  return { ok: false, algorithm, expected: expected.map((hash) => hash.value), actual };
}

/**
 * The check glean makes before a plugin version loads: with `integrity` configured, `bytes` must match
 * it, else throws `GLEAN_INTEGRITY_MISMATCH` naming the plugin, the file, the expected and the actual
 * value; without, throws `GLEAN_INTEGRITY_REQUIRED` when `required`. Returns the verification, or
 * `undefined` when nothing was checked.
 */
export function checkIntegrity(bytes: Uint8Array, check: IntegrityCheck): IntegrityResult | undefined {
  const { file, id, version = '', integrity, required = false, from } = check;
  const plugin = { id, file, version };
  if (integrity === undefined) {
    if (!required) return undefined;
    throw pluginError(
      ErrorCode.INTEGRITY_REQUIRED,
      plugin,
      `no integrity is configured and requireIntegrity is on; add "integrity": "${hashForIntegrity(bytes)}" if ${file} holds the code you mean to run`,
    );
  }
  const result = verifyIntegrity(bytes, integrity);
  if (result.ok) return result;
  const expected = result.expected.length === 1 ? result.expected[0] : `one of ${result.expected.join(', ')}`;
  throw pluginError(
    ErrorCode.INTEGRITY_MISMATCH,
    plugin,
    `integrity mismatch: the file ${file} hashes to ${result.actual}, expected ${expected}${from === undefined ? '' : ` (${from})`}`,
  );
}

function isAlgorithm(name: string): name is IntegrityAlgorithm {
  return (ALGORITHMS as string[]).includes(name);
}

function shorten(text: string): string {
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
