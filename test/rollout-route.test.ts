/**
 * Canary routing (packages/core/src/rollout/route.ts), a pure policy: the hash against published
 * MurmurHash3 x86_32 vectors, the split against the weight within binomial bounds, stickiness,
 * monotonicity, and independence between canary versions.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { until } from './helpers/index.js';
import {
  canaryBuckets,
  murmur3,
  ROUTE_BUCKETS,
  routeBucket,
  routeSeed,
  toCanary,
} from '../packages/core/src/rollout/route.js';

/** Distinct routing keys, as an application might give them (user ids). */
const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const SEED = routeSeed('FooHandlerID', '2.0');

/** Expects `count` successes out of `n` within 4.5 standard deviations of Binomial(n, p)'s mean. */
function expectBinomial(count: number, n: number, p: number): void {
  const bound = 4.5 * Math.sqrt(n * p * (1 - p));
  expect(
    Math.abs(count - n * p),
    `${count} of ${n} at p = ${p}: more than ±${bound.toFixed(1)} from ${n * p}`,
  ).toBeLessThanOrEqual(bound);
}

/** MurmurHash3 x86_32 as the reference C reads it, over bytes `Buffer.from` encodes: a second write-up to check the first. */
function referenceMurmur3(bytes: Buffer, seed: number): number {
  const mix = (block: number) => {
    const k = Math.imul(block, 0xcc9e2d51);
    return Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  };
  let h = seed >>> 0;
  const blocks = Math.floor(bytes.length / 4);
  for (let b = 0; b < blocks; b++) {
    h ^= mix(bytes.readUInt32LE(b * 4));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  let tail = 0;
  for (let i = bytes.length - 1; i >= blocks * 4; i--) tail = (tail << 8) | (bytes[i] as number);
  if (bytes.length % 4 !== 0) h ^= mix(tail);
  h ^= bytes.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

describe('the hash', () => {
  test('matches the published MurmurHash3 x86_32 vectors, keys of 0 to 5 bytes and longer, several seeds', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['\0', 0, 0x514e28b7],
      ['\0\0', 0, 0x30f4c306],
      ['\0\0\0', 0, 0x85f0b427],
      ['\0\0\0\0', 0, 0x2362f9de],
      ['a', 0x9747b28c, 0x7fa09ea6],
      ['aa', 0x9747b28c, 0x5d211726],
      ['aaa', 0x9747b28c, 0x283e0130],
      ['aaaa', 0x9747b28c, 0x5a97808a],
      ['abcd', 0x9747b28c, 0xf0478627],
      ['hello', 0, 0x248bfa47],
      ['Hello world', 0, 2911983372],
      ['Hello, world!', 0x9747b28c, 0x24884cba],
      ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
      ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ];
    for (const [text, seed, expected] of vectors) expect(murmur3(text, seed), JSON.stringify(text)).toBe(expected);
  });

  test('hashes the UTF-8 bytes of non-ASCII keys: the published vector for "ππππππππ", and 2-, 3- and 4-byte characters', () => {
    expect(murmur3('ππππππππ', 0x9747b28c)).toBe(0xd58063c1);
    for (const key of [
      'é',
      'ü-user',
      'abcdé',
      'abcdefü',
      'user\u007f',
      'user\u0080',
      'abc\u0080',
      '日本語キー',
      '🦊',
      'a🦊b',
      '\u{10ffff}',
      'mixé日🦊',
    ])
      expect(murmur3(key, 42), key).toBe(referenceMurmur3(Buffer.from(key, 'utf8'), 42));
  });

  test('a lone surrogate hashes as U+FFFD, the bytes Buffer.from and TextEncoder write for it', () => {
    for (const key of ['\ud800', 'a\udc00', '\ud83d', 'x\ud83dy', '\udc00\ud800'])
      expect(murmur3(key, 7)).toBe(murmur3(new TextDecoder().decode(new TextEncoder().encode(key)), 7));
    expect(murmur3('\ud800', 0)).toBe(murmur3('\ufffd', 0));
  });

  test('keys longer than the reused buffer hash as the reference does, and short keys after them too', () => {
    for (const key of [
      '日'.repeat(341),
      '日'.repeat(342),
      'k'.repeat(2_000),
      '日'.repeat(5_000),
      `${'🦊'.repeat(3_000)}!`,
      // Past the 64 KiB the reused buffer stops at: a buffer of its own, then the reused one again.
      `${'日'.repeat(1_000_000)}x`,
      '日本',
      'short',
    ])
      expect(murmur3(key, SEED), `${key.length} units`).toBe(referenceMurmur3(Buffer.from(key, 'utf8'), SEED));
  });

  test('a 10 MB non-ASCII key hashes as the reference does and leaves no buffer of its size behind', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const key = 'é'.repeat(5_000_000);
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const hash = murmur3(key, SEED);
    // A large buffer's memory may be given back a moment after the collection that found it unreachable.
    const grown = (): number => {
      gc();
      return process.memoryUsage().arrayBuffers - before;
    };
    await until(() => grown() < 1 << 20, `the key's buffer let go (${grown()} bytes more than before)`);
    expect(hash).toBe(referenceMurmur3(Buffer.from(key, 'utf8'), SEED));
    expect(murmur3('é'.repeat(100), SEED)).toBe(referenceMurmur3(Buffer.from('é'.repeat(100), 'utf8'), SEED));
  });

  test('property: any string and seed hash as the reference over Buffer.from(key) does', () => {
    const anyUnits = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 })
      .map((units) => String.fromCharCode(...units));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), anyUnits),
        fc.integer({ min: 0, max: 0xffffffff }),
        (key, seed) => {
          expect(murmur3(key, seed)).toBe(referenceMurmur3(Buffer.from(key, 'utf8'), seed));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('the seed of a canary is the hash of JSON [id, version] with seed 0, so each version of each id has its own', () => {
    expect(routeSeed('FooHandlerID', '2.0')).toBe(murmur3('["FooHandlerID","2.0"]', 0));
    expect(routeSeed('FooHandlerID', '2.1')).not.toBe(routeSeed('FooHandlerID', '2.0'));
    // JSON keeps ids and versions apart where plain concatenation would not.
    expect(routeSeed('a"', 'b')).not.toBe(routeSeed('a', '"b'));
  });
});

describe('buckets and weights', () => {
  test('a bucket is the hash scaled to 0 … ROUTE_BUCKETS-1', () => {
    expect(routeBucket(0, '')).toBe(0);
    expect(routeBucket(0, 'hello')).toBe(Math.floor((0x248bfa47 * ROUTE_BUCKETS) / 2 ** 32));
    // 0xffffffff is the greatest hash: it lands in the last bucket, never past it.
    expect(Math.floor((0xffffffff * ROUTE_BUCKETS) / 2 ** 32)).toBe(ROUTE_BUCKETS - 1);
    for (const key of KEYS.slice(0, 1000)) {
      const bucket = routeBucket(SEED, key);
      expect(Number.isInteger(bucket) && bucket >= 0 && bucket < ROUTE_BUCKETS).toBe(true);
    }
  });

  test('property: a weight of two decimals takes exactly weight × 100 buckets, whatever its floating-point rounding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ROUTE_BUCKETS }), (hundredths) => {
        expect(canaryBuckets(hundredths / 100)).toBe(hundredths);
      }),
      { numRuns: 5_000 },
    );
    expect(canaryBuckets(5.7)).toBe(570); // 5.7 * 100 is 570.0000000000001
    expect(canaryBuckets(0.29)).toBe(29); // 0.29 * 100 is 28.999999999999996
  });

  test('a weight of more decimals rounds up to the next bucket; 0 and below take none, 100 and above all', () => {
    expect(canaryBuckets(0.001)).toBe(1);
    expect(canaryBuckets(12.345)).toBe(1235);
    expect([canaryBuckets(0), canaryBuckets(-1), canaryBuckets(Number.NaN)]).toEqual([0, 0, 0]);
    expect([canaryBuckets(100), canaryBuckets(250)]).toEqual([ROUTE_BUCKETS, ROUTE_BUCKETS]);
  });

  test('weight 0 never goes to the canary and 100 always, with a key or without', () => {
    for (const key of KEYS.slice(0, 2000)) {
      expect(toCanary(0, SEED, key)).toBe(false);
      expect(toCanary(100, SEED, key)).toBe(true);
    }
    expect(toCanary(0, SEED, undefined, () => 0)).toBe(false);
    expect(toCanary(100, SEED, undefined, () => 0.999_999_999)).toBe(true);
  });

  test('a call without a key goes to the canary when random() × 100 < weight', () => {
    expect(toCanary(5, SEED, undefined, () => 0.049_99)).toBe(true);
    expect(toCanary(5, SEED, undefined, () => 0.05)).toBe(false);
    expect(toCanary(0.01, SEED, undefined, () => 0.000_09)).toBe(true);
  });
});

describe('the split', () => {
  test.each([1, 5, 50])(
    'at weight %d, that share of 10 000 distinct keys goes to the canary, within binomial bounds',
    (weight) => {
      for (const seed of [SEED, routeSeed('BarHandlerID', '1.1'), routeSeed('user-lookup', 'sha256-abc')]) {
        const count = KEYS.filter((key) => toCanary(weight, seed, key)).length;
        expectBinomial(count, KEYS.length, weight / 100);
      }
    },
  );

  test.each([1, 5, 50])(
    'at weight %d, that share of 100 000 calls without a key goes to the canary, within binomial bounds',
    (weight) => {
      let count = 0;
      for (let i = 0; i < 100_000; i++) if (toCanary(weight, SEED, undefined)) count++;
      expectBinomial(count, 100_000, weight / 100);
    },
  );

  test('sticky: the same key, seed and weight always give the same answer', () => {
    const first = KEYS.map((key) => toCanary(5, SEED, key));
    // Long keys in between grow and rewrite the reused buffer; the answers stay.
    toCanary(5, SEED, 'x'.repeat(10_000));
    expect(KEYS.map((key) => toCanary(5, SEED, key))).toEqual(first);
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 10_000 }),
        (key, seed, w) => {
          const weight = w / 100;
          const answer = toCanary(weight, seed, key);
          toCanary(weight, seed ^ 1, `${key}${key}`);
          expect(toCanary(weight, seed, key)).toBe(answer);
        },
      ),
    );
  });

  test('monotone: every key on the canary at a weight is on it at every higher weight (0, 1, 5, 25, 50, 99, 100)', () => {
    const weights = [0, 1, 5, 25, 50, 99, 100];
    const sets = weights.map((weight) => new Set(KEYS.filter((key) => toCanary(weight, SEED, key))));
    for (let i = 1; i < sets.length; i++) {
      const lower = sets[i - 1] as Set<string>;
      const higher = sets[i] as Set<string>;
      for (const key of lower)
        expect(higher.has(key), `${key} left the canary from ${weights[i - 1]} to ${weights[i]}`).toBe(true);
      expect(higher.size).toBeGreaterThan(lower.size);
    }
    expect(sets[0]?.size).toBe(0);
    expect(sets[weights.length - 1]?.size).toBe(KEYS.length);
  });

  test('property: monotone for any key, seed and pair of weights', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (key, seed, a, b) => {
          const [low, high] = a <= b ? [a / 100, b / 100] : [b / 100, a / 100];
          if (toCanary(low, seed, key)) expect(toCanary(high, seed, key)).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('different canary versions pick nearly independent key sets: the 5 % sets overlap on about 5 % of 5 %', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `session-${i.toString(36)}`);
    const pairs: [number, number][] = [
      [routeSeed('FooHandlerID', '2.0'), routeSeed('FooHandlerID', '2.1')],
      [routeSeed('FooHandlerID', '2.0'), routeSeed('BarHandlerID', '2.0')],
      [routeSeed('FooHandlerID', '1.0'), routeSeed('FooHandlerID', '10')],
    ];
    for (const [a, b] of pairs) {
      let both = 0;
      for (const key of keys) if (toCanary(5, a, key) && toCanary(5, b, key)) both++;
      expectBinomial(both, keys.length, 0.05 * 0.05);
    }
  });
});
