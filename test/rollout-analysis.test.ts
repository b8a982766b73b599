/**
 * A canary's analysis (packages/core/src/rollout/analysis.ts), a pure judgement of two windows'
 * figures: wait, pass, or fail for its error rate or its latency, with the figures in words.
 */
import { describe, expect, test } from 'vitest';
import {
  type AnalysisSettings,
  CANARY_CRASH_LIMIT,
  crashVerdict,
  ERROR_RATE_Z,
  errorRateZ,
  judge,
  P99_FLOOR_MS,
  RollbackReason,
} from '../packages/core/src/rollout/analysis.js';
import { OutcomeWindow, type WindowFigures } from '../packages/core/src/rollout/window.js';

/** The defaults the issue names. */
const DEFAULTS: AnalysisSettings = {
  minCalls: 100,
  maxErrorRate: 1,
  errorRateMargin: 1,
  maxP99Ms: undefined,
  p99Factor: 2,
};

/** A window's figures with `errors` of `calls` failed and the given p99. */
function figures(
  calls: number,
  errors: number,
  p99Ms: number | undefined = calls === 0 ? undefined : 10,
): WindowFigures {
  return { calls, errors, errorRate: calls === 0 ? 0 : (errors / calls) * 100, p99Ms };
}

describe('waiting', () => {
  test('waits while the canary has fewer than minCalls calls in the window, however bad they are', () => {
    expect(judge(figures(99, 99, 60_000), figures(10_000, 0), DEFAULTS)).toEqual({ kind: 'wait' });
    expect(judge(figures(0, 0), figures(0, 0), DEFAULTS)).toEqual({ kind: 'wait' });
    expect(judge(figures(100, 0), figures(10_000, 0), DEFAULTS)).toEqual({ kind: 'pass' });
    expect(judge(figures(4, 0), figures(10_000, 0), { ...DEFAULTS, minCalls: 5 })).toEqual({ kind: 'wait' });
  });
});

describe('error rate', () => {
  test('a canary failing 10 % of its calls against a clean stable fails, with the figures in words', () => {
    const verdict = judge(figures(1013, 103), figures(9120, 0), DEFAULTS);
    expect(verdict).toMatchObject({ kind: 'fail', reason: RollbackReason.ERROR_RATE });
    expect(verdict.kind === 'fail' && verdict.detail).toMatchInlineSnapshot(
      `"error rate 10.2 % over 1013 calls, stable 0.0 % over 9120 calls (max 1 %, margin 1 point)"`,
    );
  });

  test('a canary and a stable both at 50 % (a downstream outage they share) pass', () => {
    expect(judge(figures(1000, 500), figures(19_000, 9_500), DEFAULTS)).toEqual({ kind: 'pass' });
    // Even a little worse than the stable, within the margin.
    expect(judge(figures(1000, 505), figures(19_000, 9_500), DEFAULTS)).toEqual({ kind: 'pass' });
  });

  test('2 % against 0.5 % passes at 100 canary calls (chance explains it) and fails at 5 000 (it does not)', () => {
    const stable = figures(10_000, 50);
    expect(errorRateZ(figures(100, 2), stable)).toBeLessThan(ERROR_RATE_Z);
    expect(judge(figures(100, 2), stable, DEFAULTS)).toEqual({ kind: 'pass' });
    expect(errorRateZ(figures(5_000, 100), stable)).toBeGreaterThanOrEqual(ERROR_RATE_Z);
    expect(judge(figures(5_000, 100), stable, DEFAULTS)).toMatchObject({ kind: 'fail', reason: 'error-rate' });
  });

  test('a canary within maxErrorRate passes however much cleaner the stable is', () => {
    expect(judge(figures(100_000, 1_000), figures(100_000, 0), DEFAULTS)).toEqual({ kind: 'pass' });
    expect(judge(figures(100_000, 1_001), figures(100_000, 0), DEFAULTS)).toMatchObject({ kind: 'fail' });
  });

  test('a canary above maxErrorRate but within the margin of the stable passes, however many calls show it', () => {
    expect(judge(figures(100_000, 1_900), figures(100_000, 1_000), DEFAULTS)).toEqual({ kind: 'pass' });
    expect(judge(figures(100_000, 2_100), figures(100_000, 1_000), DEFAULTS)).toMatchObject({ kind: 'fail' });
    expect(judge(figures(100_000, 2_100), figures(100_000, 1_000), { ...DEFAULTS, errorRateMargin: 1.5 })).toEqual({
      kind: 'pass',
    });
  });

  test('with fewer than minCalls stable calls, the canary is judged alone against maxErrorRate', () => {
    const verdict = judge(figures(200, 6), figures(99, 6), DEFAULTS);
    expect(verdict).toMatchObject({ kind: 'fail', reason: RollbackReason.ERROR_RATE });
    expect(verdict.kind === 'fail' && verdict.detail).toMatchInlineSnapshot(
      `"error rate 3.0 % over 200 calls, stable 6.1 % over 99 calls, too few to compare (max 1 %)"`,
    );
    // No stable calls at all: a canary at weight 100.
    expect(judge(figures(200, 3), figures(0, 0), DEFAULTS)).toMatchObject({ kind: 'fail', reason: 'error-rate' });
    expect(judge(figures(200, 2), figures(0, 0), DEFAULTS)).toEqual({ kind: 'pass' });
    expect(judge(figures(200, 2), figures(0, 0), { ...DEFAULTS, minCalls: 0 })).toEqual({ kind: 'pass' });
  });

  test('the margin reads in points, plural past one', () => {
    const verdict = judge(figures(1000, 100), figures(9000, 0), {
      ...DEFAULTS,
      maxErrorRate: 0.5,
      errorRateMargin: 2.5,
    });
    expect(verdict.kind === 'fail' && verdict.detail).toMatchInlineSnapshot(
      `"error rate 10.0 % over 1000 calls, stable 0.0 % over 9000 calls (max 0.5 %, margin 2.5 points)"`,
    );
  });

  test('the z score is the pooled two-proportion test, 0 when the rates are equal or a side has no calls', () => {
    // p1 = 0.1, p2 = 0.05, pooled 0.075 over 1000 and 1000: 0.05 / √(0.075 × 0.925 × 0.002) ≈ 4.2447
    expect(errorRateZ(figures(1000, 100), figures(1000, 50))).toBeCloseTo(4.2447, 3);
    expect(errorRateZ(figures(1000, 50), figures(1000, 100))).toBeCloseTo(-4.2447, 3);
    expect(errorRateZ(figures(500, 0), figures(500, 0))).toBe(0);
    expect(errorRateZ(figures(500, 500), figures(900, 900))).toBe(0);
    expect(errorRateZ(figures(500, 10), figures(0, 0))).toBe(0);
  });
});

describe('latency', () => {
  test('fails above maxP99Ms, whatever the stable, and passes at it', () => {
    const settings = { ...DEFAULTS, maxP99Ms: 300 };
    const verdict = judge(figures(1013, 0, 412), figures(9120, 0, 400), settings);
    expect(verdict).toMatchObject({ kind: 'fail', reason: RollbackReason.LATENCY });
    expect(verdict.kind === 'fail' && verdict.detail).toMatchInlineSnapshot(
      `"p99 412 ms over 1013 calls, stable 400 ms over 9120 calls (max 300 ms)"`,
    );
    expect(judge(figures(1013, 0, 412), figures(3, 0, 1), settings)).toMatchObject({ kind: 'fail', reason: 'latency' });
    expect(judge(figures(1013, 0, 300), figures(9120, 0, 400), settings)).toEqual({ kind: 'pass' });
  });

  test('fails above p99Factor times the stable p99, and passes at it', () => {
    const verdict = judge(figures(1013, 0, 81.3), figures(9120, 0, 40.6), DEFAULTS);
    expect(verdict).toMatchObject({ kind: 'fail', reason: RollbackReason.LATENCY });
    expect(verdict.kind === 'fail' && verdict.detail).toMatchInlineSnapshot(
      `"p99 81.3 ms over 1013 calls, stable 40.6 ms over 9120 calls (max 81.2 ms: 2× the stable's, itself counted as at least 25 ms)"`,
    );
    expect(judge(figures(1013, 0, 81.2), figures(9120, 0, 40.6), DEFAULTS)).toEqual({ kind: 'pass' });
    expect(judge(figures(1013, 0, 121), figures(9120, 0, 40.6), { ...DEFAULTS, p99Factor: 3 })).toEqual({
      kind: 'pass',
    });
    expect(judge(figures(1013, 0, 122), figures(9120, 0, 40.6), { ...DEFAULTS, p99Factor: 3 })).toMatchObject({
      kind: 'fail',
    });
  });

  test(`a stable p99 under the floor counts as ${P99_FLOOR_MS} ms: differences below it never fail a canary`, () => {
    // 0.2 ms against 0.05 ms is four times slower, and still nothing anyone can feel; nor is a cold
    // thread's or a loaded machine's 16 ms against 6 ms, the kind of gap seen in this suite's runs.
    expect(judge(figures(1000, 0, 0.2), figures(9000, 0, 0.05), DEFAULTS)).toEqual({ kind: 'pass' });
    expect(judge(figures(1000, 0, 2 * P99_FLOOR_MS), figures(9000, 0, 1), DEFAULTS)).toEqual({ kind: 'pass' });
    const verdict = judge(figures(1000, 0, 2 * P99_FLOOR_MS + 0.01), figures(9000, 0, 1), DEFAULTS);
    expect(verdict.kind === 'fail' && verdict.detail).toMatchInlineSnapshot(
      `"p99 50.01 ms over 1000 calls, stable 1 ms over 9000 calls (max 50 ms: 2× the stable's, itself counted as at least 25 ms)"`,
    );
  });

  test('with fewer than minCalls stable calls, the factor is not applied, and maxP99Ms alone judges', () => {
    expect(judge(figures(1000, 0, 900), figures(99, 0, 1), DEFAULTS)).toEqual({ kind: 'pass' });
    expect(judge(figures(1000, 0, 900), figures(99, 0, 1), { ...DEFAULTS, maxP99Ms: 800 })).toMatchObject({
      kind: 'fail',
      reason: 'latency',
    });
  });

  test('an error-rate failure is reported first when latency fails too', () => {
    expect(judge(figures(1000, 500, 900), figures(9000, 0, 1), { ...DEFAULTS, maxP99Ms: 100 })).toMatchObject({
      kind: 'fail',
      reason: 'error-rate',
    });
  });
});

describe('with windows', () => {
  test('figures from two OutcomeWindows judge as their counts do', () => {
    const canary = new OutcomeWindow();
    const stable = new OutcomeWindow();
    for (let i = 0; i < 2_000; i++) canary.record(i % 10 === 0, 4);
    for (let i = 0; i < 18_000; i++) stable.record(false, 4);
    expect(judge(canary.figures(), stable.figures(), DEFAULTS)).toMatchObject({ kind: 'fail', reason: 'error-rate' });
    canary.reset();
    for (let i = 0; i < 2_000; i++) canary.record(false, i % 50 === 0 ? 80 : 4);
    expect(judge(canary.figures(), stable.figures(), DEFAULTS)).toMatchObject({ kind: 'fail', reason: 'latency' });
  });
});

describe('reasons', () => {
  test('the rollback reasons are the names events carry', () => {
    expect(Object.values(RollbackReason)).toEqual(['error-rate', 'latency', 'crashes', 'manual']);
  });

  test(`a crash streak's verdict fails the canary for crashes, naming the ${CANARY_CRASH_LIMIT} in a row`, () => {
    expect(crashVerdict()).toEqual({
      kind: 'fail',
      reason: 'crashes',
      detail: "5 crashes of the canary's workers in a row, with no call answered between them",
    });
  });
});
