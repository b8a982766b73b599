/**
 * Whether a canary passes, fails or needs more calls: a pure judgement of its window's figures
 * against the stable version's figures for the same window. No threads, no timers; the engine
 * calls {@link judge} every analysis interval.
 */
import type { WindowFigures } from './window.js';

/** What an analysis compares against; config/ supplies these (percentages as 0–100). */
export interface AnalysisSettings {
  /** Canary calls in a window below which the analysis waits; default 100. */
  readonly minCalls: number;
  /** The error rate (percent) above which a canary may fail; default 1. */
  readonly maxErrorRate: number;
  /** How many percentage points the canary's error rate must exceed the stable's by to fail; default 1. */
  readonly errorRateMargin: number;
  /** The p99 latency (ms) above which a canary fails whatever the stable's; default none. */
  readonly maxP99Ms: number | undefined;
  /** How many times the stable's p99 (at least {@link P99_FLOOR_MS}) the canary's may reach before it fails; default 2. */
  readonly p99Factor: number;
}

/** Why a canary was rolled back. */
export const RollbackReason = {
  ERROR_RATE: 'error-rate',
  LATENCY: 'latency',
  CRASHES: 'crashes',
  MANUAL: 'manual',
} as const;
/** Why a canary was rolled back: one of {@link RollbackReason}'s values. */
export type RollbackReason = (typeof RollbackReason)[keyof typeof RollbackReason];

/** Latency differences under this never fail a canary: a stable p99 below it counts as this much. */
export const P99_FLOOR_MS = 25;
/** Crashes of the canary's workers in a row, with no call answered between them, that roll it back at once. */
export const CANARY_CRASH_LIMIT = 5;
/** The z score of the two-proportion test from which a higher canary error rate is more than chance: 3 (about 1 in 740 one-sided). */
export const ERROR_RATE_Z = 3;

/** One analysis's outcome: wait for more calls, pass, or fail with a reason and the figures. */
export type Verdict =
  | { readonly kind: 'wait' }
  | { readonly kind: 'pass' }
  | { readonly kind: 'fail'; readonly reason: RollbackReason; readonly detail: string };

const WAIT: Verdict = { kind: 'wait' };
const PASS: Verdict = { kind: 'pass' };

/**
 * Judges one window. With `s` the settings, and the stable "comparable" when it has at least
 * `max(s.minCalls, 1)` calls in the window:
 * - `wait` when `canary.calls < s.minCalls`;
 * - otherwise `fail` for `error-rate` when `canary.errorRate > s.maxErrorRate` and either the
 *   stable is not comparable (the canary is judged alone), or
 *   `canary.errorRate − stable.errorRate > s.errorRateMargin` and the two-proportion z-test with
 *   pooled proportion ({@link errorRateZ}) gives z ≥ {@link ERROR_RATE_Z} (a difference chance does
 *   not explain). A downstream outage both versions share raises both rates and fails no canary;
 * - otherwise `fail` for `latency` when `s.maxP99Ms` is set and `canary.p99Ms > s.maxP99Ms`, or the
 *   stable is comparable and `canary.p99Ms > s.p99Factor × max(stable.p99Ms, P99_FLOOR_MS)`;
 * - otherwise `pass`.
 * A failure's `detail` is a sentence with the figures, such as
 * `error rate 10.2 % over 1013 calls, stable 0.0 % over 9120 calls (max 1 %, margin 1 point)`.
 */
export function judge(canary: WindowFigures, stable: WindowFigures, settings: AnalysisSettings): Verdict {
  if (canary.calls < settings.minCalls) return WAIT;
  const comparable = stable.calls >= Math.max(settings.minCalls, 1);
  const errors = errorRateFailure(canary, stable, comparable, settings);
  if (errors !== undefined) return { kind: 'fail', reason: RollbackReason.ERROR_RATE, detail: errors };
  const latency = latencyFailure(canary, stable, comparable, settings);
  if (latency !== undefined) return { kind: 'fail', reason: RollbackReason.LATENCY, detail: latency };
  return PASS;
}

/**
 * The two-proportion z score of the canary's error rate over the stable's, with pooled proportion:
 * `(p₁ − p₂) / √(p(1 − p)(1/n₁ + 1/n₂))`, where `p` is all errors over all calls; 0 when the rates
 * are equal (both versions error-free, or both failing every call), and 0 when either has no calls.
 */
export function errorRateZ(canary: WindowFigures, stable: WindowFigures): number {
  if (canary.calls === 0 || stable.calls === 0) return 0;
  const difference = canary.errors / canary.calls - stable.errors / stable.calls;
  const pooled = (canary.errors + stable.errors) / (canary.calls + stable.calls);
  const spread = Math.sqrt(pooled * (1 - pooled) * (1 / canary.calls + 1 / stable.calls));
  if (spread === 0) return 0;
  return difference / spread;
}

/** The verdict for a canary whose workers crashed {@link CANARY_CRASH_LIMIT} times in a row. */
export function crashVerdict(): Extract<Verdict, { kind: 'fail' }> {
  return {
    kind: 'fail',
    reason: RollbackReason.CRASHES,
    detail: `${CANARY_CRASH_LIMIT} crashes of the canary's workers in a row, with no call answered between them`,
  };
}

/** The detail of an error-rate failure, or undefined when the error rate passes. */
function errorRateFailure(
  canary: WindowFigures,
  stable: WindowFigures,
  comparable: boolean,
  settings: AnalysisSettings,
): string | undefined {
  if (!(canary.errorRate > settings.maxErrorRate)) return undefined;
  const figures = `error rate ${percent(canary.errorRate)} over ${canary.calls} calls, stable ${percent(stable.errorRate)} over ${stable.calls} calls`;
  if (!comparable) return `${figures}, too few to compare (max ${settings.maxErrorRate} %)`;
  if (!(canary.errorRate - stable.errorRate > settings.errorRateMargin)) return undefined;
  if (!(errorRateZ(canary, stable) >= ERROR_RATE_Z)) return undefined;
  const margin = settings.errorRateMargin;
  return `${figures} (max ${settings.maxErrorRate} %, margin ${margin} point${margin === 1 ? '' : 's'})`;
}

/** The detail of a latency failure, or undefined when latency passes. */
function latencyFailure(
  canary: WindowFigures,
  stable: WindowFigures,
  comparable: boolean,
  settings: AnalysisSettings,
): string | undefined {
  const p99 = canary.p99Ms;
  if (p99 === undefined) return undefined;
  const figures = `p99 ${ms(p99)} over ${canary.calls} calls, stable ${stable.p99Ms === undefined ? 'none' : ms(stable.p99Ms)} over ${stable.calls} calls`;
  if (settings.maxP99Ms !== undefined && p99 > settings.maxP99Ms) return `${figures} (max ${settings.maxP99Ms} ms)`;
  if (!comparable || stable.p99Ms === undefined) return undefined;
  const limit = settings.p99Factor * Math.max(stable.p99Ms, P99_FLOOR_MS);
  if (!(p99 > limit)) return undefined;
  return `${figures} (max ${ms(limit)}: ${settings.p99Factor}× the stable's, itself counted as at least ${P99_FLOOR_MS} ms)`;
}

/** A percentage with one decimal: `10.2 %`. */
function percent(rate: number): string {
  return `${rate.toFixed(1)} %`;
}

/** Milliseconds, whole from 100 up, else with at most two decimals: `0.41 ms`, `41.27 ms`, `412 ms`. */
function ms(value: number): string {
  return `${value >= 100 ? Math.round(value) : Number(value.toFixed(2))} ms`;
}
