/**
 * Which version a call goes to while an id has a canary: a pure policy, with no threads, timers or
 * shared state, so every replica that reads the same config splits calls the same way.
 *
 * A call with a routing key is sent by the key's bucket: MurmurHash3 (x86, 32-bit) of the key's
 * UTF-8 bytes, seeded per canary version, scaled to one of {@link ROUTE_BUCKETS} buckets; the
 * canary takes the lowest `weight × 100` of them. A fixed seed makes a key's bucket fixed, so the
 * answer is sticky (same key, same weight, same version) and monotone (a higher weight only adds
 * buckets). A call without a key is sent by a random draw.
 */

/** Buckets a routing key falls into: 10 000, so a weight has two decimals (0.01 %). */
export const ROUTE_BUCKETS = 10_000;

/** Buckets a routing key falls into per percent of weight. */
const BUCKETS_PER_PERCENT = ROUTE_BUCKETS / 100;

/** How far past a whole number of buckets `weight × 100` may come out by floating-point rounding and still count as it (5.7 × 100 is 570.0000000000001). */
const WEIGHT_SLACK = 1e-9;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * The UTF-8 bytes of the key being hashed, reused from call to call so that routing allocates
 * nothing; grown (to a power of two, up to {@link SCRATCH_KEPT_BYTES}) when a key could need more.
 */
let scratch = new Uint8Array(1024);

/** The largest buffer {@link scratch} grows to: a longer key is encoded into one of its own, let go after it (one 10 MB key must not hold 32 MB for the life of the process). */
const SCRATCH_KEPT_BYTES = 65_536;

/**
 * The seed every key of one canary is hashed with: MurmurHash3 (x86, 32-bit) of the UTF-8 of
 * `JSON.stringify([id, canaryVersion])`, seed 0. A new canary version of an id gets a new seed, so it
 * picks its keys afresh, nearly independently of the one before.
 */
export function routeSeed(id: string, canaryVersion: string): number {
  return murmur3(JSON.stringify([id, canaryVersion]), 0);
}

/**
 * The bucket of `key` for that seed: MurmurHash3 x86_32 of the key's UTF-8 bytes with `seed`, scaled
 * to 0 … ROUTE_BUCKETS-1 (`floor(h * ROUTE_BUCKETS / 2**32)`). Allocates nothing for an ASCII key
 * of any length, nor for another of up to 341 UTF-16 units; a longer one grows a buffer kept for
 * the next, up to 64 KiB (keys of up to 21 845 units), and one longer still takes a buffer of its own.
 */
export function routeBucket(seed: number, key: string): number {
  return Math.floor((murmur3(key, seed) * ROUTE_BUCKETS) / 2 ** 32);
}

/**
 * How many of the {@link ROUTE_BUCKETS} buckets a canary at `weight` (percent, 0–100) takes:
 * `weight × 100`, a weight of more than two decimals rounded up to the next 0.01 %; 0 for a weight
 * of 0 or less, all of them for 100 or more.
 */
export function canaryBuckets(weight: number): number {
  if (!(weight > 0)) return 0;
  if (weight >= 100) return ROUTE_BUCKETS;
  return Math.ceil(weight * BUCKETS_PER_PERCENT - WEIGHT_SLACK);
}

/**
 * Whether a call goes to the canary at `weight` (a percentage 0–100, two decimals): with a key,
 * `routeBucket(seed, key) < weight * 100` (see {@link canaryBuckets} for weights of more decimals);
 * without one, `random() * 100 < weight`, a fresh draw per call (`random` defaults to
 * `Math.random`). Weight 0 never, 100 always.
 */
export function toCanary(
  weight: number,
  seed: number,
  key: string | undefined,
  random: () => number = Math.random,
): boolean {
  if (!(weight > 0)) return false;
  if (weight >= 100) return true;
  if (key === undefined) return random() * 100 < weight;
  return routeBucket(seed, key) < canaryBuckets(weight);
}

/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `text` with `seed`, as an unsigned 32-bit number: Austin
 * Appleby's reference `MurmurHash3_x86_32`, blocks read little-endian.
 */
export function murmur3(text: string, seed: number): number {
  // Most keys are ASCII, their UTF-8 the UTF-16 units themselves: hashed straight from the string.
  const ascii = murmur3Ascii(text, seed);
  if (ascii >= 0) return ascii;
  // No UTF-16 unit takes more than 3 bytes (a surrogate pair, two units, takes 4).
  const needed = text.length * 3;
  if (needed > scratch.length && needed <= SCRATCH_KEPT_BYTES)
    scratch = new Uint8Array(2 ** Math.ceil(Math.log2(needed)));
  const bytes = needed <= scratch.length ? scratch : new Uint8Array(needed);
  return murmur3Bytes(bytes, utf8Into(text, bytes), seed);
}

/** One 4-byte block mixed into `h`. */
function mixBlock(h: number, block: number): number {
  let k = Math.imul(block, C1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, C2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The last 1 to 3 bytes, as a little-endian number, mixed into `h`. */
function mixTail(h: number, tail: number): number {
  let k = Math.imul(tail, C1);
  k = (k << 15) | (k >>> 17);
  return h ^ Math.imul(k, C2);
}

/** The final avalanche of `h` after `length` bytes, unsigned. */
function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash of an all-ASCII `text` read from its UTF-16 units, or -1 at the first unit that is not ASCII. */
function murmur3Ascii(text: string, seed: number): number {
  const length = text.length;
  const blocks = length & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < blocks; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    if ((a | b | c | d) > 0x7f) return -1;
    h = mixBlock(h, a | (b << 8) | (c << 16) | (d << 24));
  }
  const tail = length & 3;
  if (tail > 0) {
    const a = text.charCodeAt(i);
    const b = tail >= 2 ? text.charCodeAt(i + 1) : 0;
    const c = tail === 3 ? text.charCodeAt(i + 2) : 0;
    if ((a | b | c) > 0x7f) return -1;
    h = mixTail(h, a | (b << 8) | (c << 16));
  }
  return finish(h, length);
}

/** The hash of the first `length` bytes of `bytes`. */
function murmur3Bytes(bytes: Uint8Array, length: number, seed: number): number {
  const blocks = length & ~3;
  let h = seed | 0;
  let i = 0;
  for (; i < blocks; i += 4) {
    h = mixBlock(
      h,
      (bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24),
    );
  }
  const tail = length & 3;
  if (tail > 0) {
    const b = tail >= 2 ? (bytes[i + 1] as number) : 0;
    const c = tail === 3 ? (bytes[i + 2] as number) : 0;
    h = mixTail(h, (bytes[i] as number) | (b << 8) | (c << 16));
  }
  return finish(h, length);
}

/**
 * Writes the UTF-8 of `text` into `out` (at least 3 bytes per UTF-16 unit) and returns how many
 * bytes it took. A lone surrogate becomes U+FFFD, as `TextEncoder` and `Buffer.from` write it, so a
 * key hashes the same whichever of them a replica used to make it. Written by hand:
 * `TextEncoder.encodeInto` returns a fresh object per call.
 */
function utf8Into(text: string, out: Uint8Array): number {
  const units = text.length;
  let at = 0;
  for (let i = 0; i < units; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
      continue;
    }
    if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < units ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const point = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        out[at++] = 0xf0 | (point >> 18);
        out[at++] = 0x80 | ((point >> 12) & 0x3f);
        out[at++] = 0x80 | ((point >> 6) & 0x3f);
        out[at++] = 0x80 | (point & 0x3f);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    out[at++] = 0xe0 | (c >> 12);
    out[at++] = 0x80 | ((c >> 6) & 0x3f);
    out[at++] = 0x80 | (c & 0x3f);
  }
  return at;
}
