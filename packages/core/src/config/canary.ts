/**
 * A plugin entry's `canary`: a second version of the same id that takes a share of its calls. Its
 * types, the built-in analysis values, how its options merge over the entry's, and when two rollouts
 * are the same. The schema is in schema.ts; what no schema can say about a canary in canary-rules.ts.
 */
import * as path from 'node:path';
import { mergeLayers, type OptionLayer, type PluginOptions } from './options.js';

/** How a canary's share of calls is set and judged, defaults applied (percentages as 0–100). */
export interface CanaryRollout {
  /** The canary's fixed share of the id's calls, in percent; `undefined` when it is stepped. */
  readonly weight: number | undefined;
  /** The shares it moves through, in percent, strictly ascending; `undefined` for a fixed weight. */
  readonly steps: readonly number[] | undefined;
  /** How long each step lasts before the next, in ms, while the analysis passes; set exactly when `steps` is. */
  readonly stepMs: number | undefined;
  /** How often the canary's figures are judged, in ms; default 10000. */
  readonly intervalMs: number;
  /** Calls the canary must have in a window before it is judged; default 100. */
  readonly minCalls: number;
  /** The error rate, in percent, above which the canary fails (when it is also the stable's plus `errorRateMargin`); default 1. */
  readonly maxErrorRate: number;
  /** Percentage points by which the canary's error rate must exceed the stable's to fail; default 1. */
  readonly errorRateMargin: number;
  /** A p99 latency, in ms, above which the canary fails; default `undefined` (none). */
  readonly maxP99Ms: number | undefined;
  /** The factor over the stable's p99 above which the canary's p99 fails it; default 2. */
  readonly p99Factor: number;
  /** Time the canary may go without enough calls to be judged before a `stalled` event says so, in ms; default 600000. */
  readonly progressDeadlineMs: number;
}

/** The built-in analysis values. */
export const DEFAULT_CANARY_ANALYSIS = Object.freeze({
  intervalMs: 10_000,
  minCalls: 100,
  maxErrorRate: 1,
  errorRateMargin: 1,
  maxP99Ms: undefined,
  p99Factor: 2,
  progressDeadlineMs: 600_000,
} as const) satisfies Partial<CanaryRollout>;

/** A validated `canary` of a plugin entry. */
export interface CanaryEntry {
  /** Absolute plugin file: `path.resolve(configDir, fileAsWritten)`. */
  readonly file: string;
  /** The `file` value as written in the config. */
  readonly fileAsWritten: string;
  /** The export name; the entry's when absent. */
  readonly name: string;
  /** Its version, never the entry's: it names the canary (its routing salt, its events, the per-call override). */
  readonly version: string;
  /** Effective options: the canary's over the entry's over `defaults` over the built-ins; frozen. */
  readonly options: Readonly<PluginOptions>;
  /** Its share of calls and how it is judged, defaults applied; frozen. */
  readonly rollout: CanaryRollout;
}

/** The order {@link rolloutKey} writes a rollout's fields in. */
const ROLLOUT_KEYS = [
  'weight',
  'steps',
  'stepMs',
  'intervalMs',
  'minCalls',
  'maxErrorRate',
  'errorRateMargin',
  'maxP99Ms',
  'p99Factor',
  'progressDeadlineMs',
] as const satisfies readonly (keyof CanaryRollout)[];

/** Canonical string of a rollout: equal strings exactly when two rollouts are the same (the engine compares them across reloads). */
export function rolloutKey(rollout: CanaryRollout): string {
  // Every field is a number, a list of numbers or undefined: String() is canonical for them (and -0 is 0, as it should be).
  return ROLLOUT_KEYS.map((key) => {
    const value = rollout[key];
    return `${key}=${value === undefined ? 'none' : Array.isArray(value) ? `[${value.join(',')}]` : String(value)}`;
  }).join(';');
}

/** A `canary` as the schema validated it: absent keys are unset. */
export type CanaryLayer = OptionLayer & {
  readonly file: string;
  readonly name?: string | undefined;
  readonly version?: string | undefined;
  readonly weight?: number | undefined;
  readonly steps?: readonly number[] | undefined;
  readonly stepMs?: number | undefined;
} & { readonly [Key in keyof typeof DEFAULT_CANARY_ANALYSIS]?: number | undefined };

/** The entry a canary belongs to, as the schema validated it. */
export type CanaryOwner = OptionLayer & { readonly name: string; readonly version?: string | undefined };

/**
 * A validated `canary` to its {@link CanaryEntry}: options the canary over the entry over `defaults`
 * over the built-ins (`resourceLimits` key by key, `env` whole; `integrity` the canary's own or
 * `defaults`', never the entry's, which is of another file), the rollout with its defaults.
 * The cross-field rules (canary-rules.ts) have passed: `version` is present.
 */
export function canaryEntry(
  dir: string,
  defaults: OptionLayer | undefined,
  owner: CanaryOwner,
  canary: CanaryLayer,
): CanaryEntry {
  const analysis = DEFAULT_CANARY_ANALYSIS;
  const rollout: CanaryRollout = Object.freeze({
    weight: canary.weight,
    steps: canary.steps === undefined ? undefined : Object.freeze([...canary.steps]),
    stepMs: canary.stepMs,
    intervalMs: canary.intervalMs ?? analysis.intervalMs,
    minCalls: canary.minCalls ?? analysis.minCalls,
    maxErrorRate: canary.maxErrorRate ?? analysis.maxErrorRate,
    errorRateMargin: canary.errorRateMargin ?? analysis.errorRateMargin,
    maxP99Ms: canary.maxP99Ms ?? analysis.maxP99Ms,
    p99Factor: canary.p99Factor ?? analysis.p99Factor,
    progressDeadlineMs: canary.progressDeadlineMs ?? analysis.progressDeadlineMs,
  });
  return Object.freeze({
    file: path.resolve(dir, canary.file),
    fileAsWritten: canary.file,
    name: canary.name ?? owner.name,
    version: canary.version ?? '',
    // Not the entry's integrity: an integrity value is of one file's bytes, and the canary's file is another.
    options: mergeLayers([canary, { ...owner, integrity: undefined }, defaults]),
    rollout,
  });
}
