import * as fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ErrorCode, GleanError } from '../packages/core/src/errors.js';
import { thrownBy } from './helpers/errors.js';
import {
  DEFAULT_INTEGRITY_ALGORITHM,
  checkIntegrity,
  hashForIntegrity,
  integrityProblem,
  parseIntegrity,
  verifyIntegrity,
} from '../packages/core/src/integrity.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

// The example of the SRI spec (https://www.w3.org/TR/SRI/#introduction), and the empty input's digests.
const HELLO = bytes("alert('Hello, world.');");
const HELLO_SHA384 = 'sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO';
const EMPTY_SHA256 = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const EMPTY_SHA384 = 'sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb';
const EMPTY_SHA512 = 'sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==';

describe('hashForIntegrity', () => {
  test('gives the SRI value of bytes, sha384 by default', () => {
    expect(DEFAULT_INTEGRITY_ALGORITHM).toBe('sha384');
    expect(hashForIntegrity(HELLO)).toBe(HELLO_SHA384);
    expect(hashForIntegrity(new Uint8Array(0))).toBe(EMPTY_SHA384);
    expect(hashForIntegrity(new Uint8Array(0), 'sha256')).toBe(EMPTY_SHA256);
    expect(hashForIntegrity(new Uint8Array(0), 'sha512')).toBe(EMPTY_SHA512);
  });

  test('refuses an algorithm SRI does not name', () => {
    expect(() => hashForIntegrity(HELLO, 'md5' as never)).toThrow(
      new TypeError('unsupported integrity algorithm "md5"; use sha256, sha384 or sha512'),
    );
  });
});

describe('parseIntegrity', () => {
  test('one hash', () => {
    expect(parseIntegrity(HELLO_SHA384)).toEqual({
      hashes: [{ algorithm: 'sha384', digest: HELLO_SHA384.slice(7), value: HELLO_SHA384 }],
      algorithm: 'sha384',
      expected: [{ algorithm: 'sha384', digest: HELLO_SHA384.slice(7), value: HELLO_SHA384 }],
    });
  });

  test('several hashes, separated by any whitespace: the strongest algorithm is the one checked', () => {
    const parsed = parseIntegrity(`  ${EMPTY_SHA256}\t${EMPTY_SHA512}\n${HELLO_SHA384} `);
    expect(parsed.hashes.map((hash) => hash.algorithm)).toEqual(['sha256', 'sha512', 'sha384']);
    expect(parsed.algorithm).toBe('sha512');
    expect(parsed.expected.map((hash) => hash.value)).toEqual([EMPTY_SHA512]);
  });

  test.each([
    ['', 'expected at least one "<algorithm>-<base64 digest>", received an empty string'],
    ['   ', 'expected at least one "<algorithm>-<base64 digest>", received an empty string'],
    [
      'H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO',
      'expected "<algorithm>-<base64 digest>", such as "sha384-…"',
    ],
    ['md5-1B2M2Y8AsgTpgAmY7PhCfg==', 'unsupported algorithm "md5"; use sha256, sha384 or sha512'],
    ['sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=', 'unsupported algorithm "sha1"; use sha256, sha384 or sha512'],
    ['SHA384-' + HELLO_SHA384.slice(7), 'unsupported algorithm "SHA384"; use sha256, sha384 or sha512'],
    ['sha384-' + HELLO_SHA384.slice(8), 'a sha384 digest is 64 base64 characters (48 bytes), received 63'],
    [EMPTY_SHA256.replace(/=$/, ''), 'a sha256 digest is 44 base64 characters (32 bytes), received 43'],
    ['sha256-' + EMPTY_SHA384.slice(7), 'a sha256 digest is 44 base64 characters (32 bytes), received 64'],
    [
      EMPTY_SHA256.replace('+', '-').replace('/', '_'),
      'the digest is not base64 (A–Z, a–z, 0–9, "+", "/", "=" padding)',
    ],
    [`${HELLO_SHA384}?ct=application/javascript`, 'SRI options ("?…") are not supported'],
  ])('refuses %j', (value, problem) => {
    expect(integrityProblem(value)).toBe(problem);
    expect(() => parseIntegrity(value)).toThrow(TypeError);
  });

  test('with several hashes, the problem names the bad one', () => {
    expect(integrityProblem(`${HELLO_SHA384} sha384-abc`)).toBe(
      '"sha384-abc": a sha384 digest is 64 base64 characters (48 bytes), received 3',
    );
  });

  test('a digest whose padding bits are not zero is not canonical base64, so it is refused', () => {
    // "…FU=" is canonical; "…FV=" decodes to the same bytes but cannot have been produced by an encoder.
    expect(integrityProblem(EMPTY_SHA256.replace(/U=$/, 'V='))).toMatch(/^a sha256 digest is 44 base64 characters/);
  });
});

describe('verifyIntegrity', () => {
  test('matching bytes', () => {
    expect(verifyIntegrity(HELLO, HELLO_SHA384)).toEqual({ ok: true, algorithm: 'sha384', actual: HELLO_SHA384 });
    expect(verifyIntegrity(HELLO, parseIntegrity(HELLO_SHA384))).toEqual({
      ok: true,
      algorithm: 'sha384',
      actual: HELLO_SHA384,
    });
  });

  test('other bytes', () => {
    expect(verifyIntegrity(new Uint8Array(0), HELLO_SHA384)).toEqual({
      ok: false,
      algorithm: 'sha384',
      expected: [HELLO_SHA384],
      actual: EMPTY_SHA384,
    });
  });

  test('any of several hashes of the strongest algorithm matches (two files allowed during a rollout)', () => {
    expect(verifyIntegrity(HELLO, `${EMPTY_SHA384} ${HELLO_SHA384}`).ok).toBe(true);
    expect(verifyIntegrity(new Uint8Array(0), `${EMPTY_SHA384} ${HELLO_SHA384}`).ok).toBe(true);
  });

  test('hashes of weaker algorithms are ignored, even when they match', () => {
    // The empty input matches the sha256 value, but sha384 is present and is the one that counts.
    expect(verifyIntegrity(new Uint8Array(0), `${EMPTY_SHA256} ${HELLO_SHA384}`)).toEqual({
      ok: false,
      algorithm: 'sha384',
      expected: [HELLO_SHA384],
      actual: EMPTY_SHA384,
    });
  });

  test('an invalid value throws rather than passing or failing silently', () => {
    expect(() => verifyIntegrity(HELLO, 'sha384-')).toThrow(TypeError);
  });

  test('property: bytes match their own value in every algorithm, and any changed byte breaks it', () => {
    // biome-ignore lint/nursery/noFloatingPromises: a synchronous property; fc.assert returns void for it
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.constantFrom('sha256', 'sha384', 'sha512' as const),
        fc.nat(),
        (data, algorithm, at) => {
          const value = hashForIntegrity(data, algorithm);
          expect(integrityProblem(value)).toBeUndefined();
          expect(verifyIntegrity(data, value).ok).toBe(true);
          const changed = Uint8Array.from(data);
          const index = at % changed.length;
          changed[index] = changed[index]! ^ 1;
          expect(verifyIntegrity(changed, value).ok).toBe(false);
        },
      ),
    );
  });
});

describe('checkIntegrity', () => {
  const file = '/srv/app/plugins/hello.js';

  test('nothing configured and nothing required: nothing checked', () => {
    expect(checkIntegrity(HELLO, { file, integrity: undefined })).toBeUndefined();
    expect(checkIntegrity(HELLO, { file, integrity: undefined, required: false })).toBeUndefined();
  });

  test('a match returns the verification', () => {
    expect(checkIntegrity(HELLO, { file, integrity: HELLO_SHA384, required: true })).toEqual({
      ok: true,
      algorithm: 'sha384',
      actual: HELLO_SHA384,
    });
  });

  test('a mismatch throws GLEAN_INTEGRITY_MISMATCH naming the plugin, the file, the expected and the actual value', () => {
    const error = thrownBy(
      () => checkIntegrity(bytes('alert(1)'), { file, id: 'Hello', version: '1.0', integrity: HELLO_SHA384 }),
      GleanError,
    );
    expect(error.code).toBe(ErrorCode.INTEGRITY_MISMATCH);
    expect([error.id, error.file, error.version]).toEqual(['Hello', file, '1.0']);
    expect(error.message).toMatchInlineSnapshot(
      `"plugin "Hello" (/srv/app/plugins/hello.js@1.0): integrity mismatch: the file /srv/app/plugins/hello.js hashes to sha384-HT2E9NfWiuQ/w1PRai+hTyqW16NIoCGA/m8VQDUopfAtcz6YQjtsMmQd5uRbVDpW, expected sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"`,
    );
  });

  test('with several expected values, the message lists them all', () => {
    const error = thrownBy(
      () => checkIntegrity(bytes('alert(1)'), { file, integrity: `${EMPTY_SHA384} ${HELLO_SHA384}` }),
      GleanError,
    );
    expect(error.code).toBe(ErrorCode.INTEGRITY_MISMATCH);
    expect(error.message).toContain(`expected one of ${EMPTY_SHA384}, ${HELLO_SHA384}`);
  });

  test('required but not configured throws GLEAN_INTEGRITY_REQUIRED with the value to add', () => {
    const error = thrownBy(
      () => checkIntegrity(HELLO, { file, id: 'Hello', integrity: undefined, required: true }),
      GleanError,
    );
    expect(error.code).toBe(ErrorCode.INTEGRITY_REQUIRED);
    expect(error.message).toMatchInlineSnapshot(
      `"plugin "Hello" (/srv/app/plugins/hello.js): no integrity is configured and requireIntegrity is on; add "integrity": "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO" if /srv/app/plugins/hello.js holds the code you mean to run"`,
    );
  });
});
