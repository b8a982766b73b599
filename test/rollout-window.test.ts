/**
 * A version's analysis window (packages/core/src/rollout/window.ts), a pure record: counts, error
 * rate, and the p99 its log-bucketed histogram reads against the exact p99 of the same samples.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LATENCY_MAX_MS, LATENCY_MIN_MS, OutcomeWindow } from '../packages/core/src/rollout/window.js';

/** The histogram's bound: a bucket read as its geometric middle is within √1.02 − 1 of any value in it. */
const RELATIVE_ERROR = Math.sqrt(1.02) - 1 + 1e-12; // and a rounding of floating point

/** A seeded generator (mulberry32), so each distribution is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The exact p99 by nearest rank: the ceil(0.99 n)-th smallest. */
function exactP99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil(0.99 * sorted.length) - 1] as number;
}

function windowOf(samples: readonly number[]): OutcomeWindow {
  const window = new OutcomeWindow();
  for (const ms of samples) window.record(false, ms);
  return window;
}

function expectP99Near(samples: readonly number[]): void {
  const exact = exactP99(samples);
  const p99 = windowOf(samples).figures().p99Ms as number;
  expect(Math.abs(p99 - exact) / exact, `p99 ${p99} against exact ${exact}`).toBeLessThanOrEqual(RELATIVE_ERROR);
}

describe('p99 from the histogram', () => {
  const random = seeded(14);
  const distributions: Record<string, number[]> = {
    'uniform 0–100 ms': Array.from({ length: 20_000 }, () => random() * 100),
    'uniform under a millisecond': Array.from({ length: 5_000 }, () => 0.002 + random() * 0.5),
    'long-tailed (Pareto, α = 1.2, from 1 ms)': Array.from({ length: 50_000 }, () => 1 / (1 - random()) ** (1 / 1.2)),
    'log-normal around 20 ms': Array.from({ length: 30_000 }, () => {
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return 20 * Math.exp(normal);
    }),
    'bimodal: 98.5 % at 2 ms, 1.5 % at 900 ms': Array.from({ length: 10_000 }, (_, i) => (i % 200 < 3 ? 900 : 2)),
    'seconds to minutes': Array.from({ length: 2_000 }, () => 1_000 + random() * 300_000),
    '150 calls': Array.from({ length: 150 }, () => random() * 40),
  };
  test.each(Object.keys(distributions))('%s: within 1 percent of the exact p99', (name) => {
    expectP99Near(distributions[name] as number[]);
  });

  test('all calls equal: exactly their latency', () => {
    for (const ms of [0.001, 0.37, 3, 12.5, 999.9, 86_000])
      expect(windowOf(Array.from({ length: 500 }, () => ms)).figures().p99Ms).toBe(ms);
  });

  test('a single call: exactly its latency', () => {
    for (const ms of [0.004, 1, 7.77, 123_456]) expect(windowOf([ms]).figures().p99Ms).toBe(ms);
  });

  test('property: any latencies from 1 µs to an hour give a p99 within 1 % of the exact one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: LATENCY_MIN_MS, max: LATENCY_MAX_MS, noNaN: true }), {
          minLength: 1,
          maxLength: 400,
        }),
        (samples) => expectP99Near(samples),
      ),
      { numRuns: 500 },
    );
  });

  test('latencies outside 1 µs to an hour are clamped to it: zero, negative and NaN as 1 µs, longer as an hour', () => {
    expect(windowOf([0, -5, Number.NaN]).figures().p99Ms).toBe(LATENCY_MIN_MS);
    expect(windowOf([5_000_000, Number.POSITIVE_INFINITY]).figures().p99Ms).toBe(LATENCY_MAX_MS);
    const mixed = windowOf([...Array.from({ length: 99 }, () => 0), 10 * LATENCY_MAX_MS]).figures();
    expect(mixed.calls).toBe(100);
    expect(Math.abs((mixed.p99Ms as number) - LATENCY_MIN_MS) / LATENCY_MIN_MS).toBeLessThanOrEqual(RELATIVE_ERROR);
    const longest = windowOf([
      ...Array.from({ length: 98 }, () => 0),
      10 * LATENCY_MAX_MS,
      10 * LATENCY_MAX_MS,
    ]).figures();
    expect(longest.p99Ms).toBe(LATENCY_MAX_MS);
  });
});

describe('counts', () => {
  test('an empty window has no calls, an error rate of 0 and no p99', () => {
    expect(new OutcomeWindow().figures()).toEqual({ calls: 0, errors: 0, errorRate: 0, p99Ms: undefined });
    expect(new OutcomeWindow().figures().calls).toBe(0);
  });

  test('counts calls and errors, and the error rate as a percentage', () => {
    const window = new OutcomeWindow();
    for (let i = 0; i < 1013; i++) window.record(i % 10 === 0, 3);
    expect(window.figures().calls).toBe(1013);
    expect(window.figures()).toEqual({ calls: 1013, errors: 102, errorRate: (102 / 1013) * 100, p99Ms: 3 });
  });

  test('an error call counts towards latency too', () => {
    const window = new OutcomeWindow();
    for (let i = 0; i < 98; i++) window.record(false, 1);
    window.record(true, 5_000);
    window.record(true, 5_000);
    expect(window.figures().p99Ms).toBeCloseTo(5_000, -2);
  });

  test('reset starts an empty window: nothing of the calls before it shows after', () => {
    const window = new OutcomeWindow();
    for (let i = 0; i < 500; i++) window.record(true, 10);
    window.reset();
    expect(window.figures()).toEqual({ calls: 0, errors: 0, errorRate: 0, p99Ms: undefined });
    for (let i = 0; i < 200; i++) window.record(false, i < 100 ? 1 : 30);
    const after = window.figures();
    expect(after).toMatchObject({ calls: 200, errors: 0, errorRate: 0 });
    expect(Math.abs((after.p99Ms as number) - 30) / 30).toBeLessThanOrEqual(RELATIVE_ERROR);
  });
});
