/**
 * The zod schema of a config file as written, and the types it infers. Every check names what it
 * expected and the offending value (`expected an integer from 1 to 256, received 0`); parse.ts turns
 * what zod reports into config issues.
 */
import * as z from 'zod';
import { integrityProblem } from '../integrity.js';
import { rfc3339Problem } from './rfc3339.js';
import {
  LIMIT_KEYS,
  RESOURCE_LIMIT_RANGES,
  type EnvOption,
  type PluginOptions,
  type ResourceLimits,
} from './options.js';

/** The longest timer value a config may give, in ms: setTimeout fires at once (with a warning) for delays above 2^31-1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** How a value's type is named in messages: `null` and `array` apart from `object`. */
export function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** A zod error map naming the expectation and the offending value: `expected a positive number, received 0`. */
function expecting(expected: string) {
  return (issue: { readonly input?: unknown }): string =>
    `expected ${expected}, received ${typeof issue.input === 'number' ? String(issue.input) : typeName(issue.input)}`;
}

function integer(min: number, max: number, expected: string) {
  const error = expecting(expected);
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const nonEmptyStringError = (issue: { readonly input?: unknown }): string =>
  typeof issue.input === 'string'
    ? 'expected a non-empty string, received ""'
    : `expected string, received ${typeName(issue.input)}`;
const nonEmptyString = z.string({ error: nonEmptyStringError }).min(1, { error: nonEmptyStringError });

function numberFrom(min: number, max: number) {
  const error = expecting(`a number from ${min} to ${max}`);
  return z.number({ error }).min(min, { error }).max(max, { error });
}

const limit = (key: keyof ResourceLimits) =>
  numberFrom(RESOURCE_LIMIT_RANGES[key].min, RESOURCE_LIMIT_RANGES[key].max).optional();

const ResourceLimitsSchema = z.strictObject({
  maxOldGenerationSizeMb: limit('maxOldGenerationSizeMb'),
  maxYoungGenerationSizeMb: limit('maxYoungGenerationSizeMb'),
  codeRangeSizeMb: limit('codeRangeSizeMb'),
  stackSizeMb: limit('stackSizeMb'),
});

const IntegritySchema = z
  .string({ error: (issue) => `expected string, received ${typeName(issue.input)}` })
  .superRefine((value, context) => {
    const problem = integrityProblem(value);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, input: value });
  });

const ENV_EXPECTED = 'expected "inherit", "none" or an object of variables';

// Checked by hand rather than as a union of an enum and a record: a union's error would list both branches' complaints.
const EnvSchema = z.custom<EnvOption>().superRefine((value, context) => {
  if (typeof value === 'string') {
    if (value !== 'inherit' && value !== 'none')
      context.addIssue({ code: 'custom', message: `${ENV_EXPECTED}, received ${JSON.stringify(value)}`, input: value });
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    context.addIssue({ code: 'custom', message: `${ENV_EXPECTED}, received ${typeName(value)}`, input: value });
    return;
  }
  for (const [name, text] of Object.entries(value)) {
    const problem = variableProblem(name, text);
    if (problem === undefined) continue;
    // A problem of the name is shown at the name, not at its value.
    const params: IssueParams = { atKey: problem.startsWith('a variable name') };
    context.addIssue({ code: 'custom', message: problem, path: [name], input: text, params });
  }
});

/** What a custom check may tell parse.ts about its issue: `atKey`, that the key at its path is at fault, not the value. */
export interface IssueParams {
  readonly atKey?: boolean;
}

/** What is wrong with one variable of an `env` object, or `undefined`. */
function variableProblem(name: string, value: unknown): string | undefined {
  // The OS stores a variable as "NAME=value\0": a name cannot hold "=" or NUL, a value cannot hold NUL.
  if (name === '') return 'a variable name cannot be empty';
  if (/[=\0]/.test(name)) return 'a variable name cannot contain "=" or NUL';
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' || typeof value === 'boolean' ? ' (put the value in quotes)' : '';
    return `expected string, received ${typeName(value)}${hint}`;
  }
  return value.includes('\0') ? 'a value cannot contain NUL' : undefined;
}

const OPTIONS_SHAPE = {
  threads: integer(1, 256, 'an integer from 1 to 256')
    .optional()
    .describe('worker threads for this version; default 1'),
  timeoutMs: integer(1, MAX_TIMER_MS, `an integer from 1 to ${MAX_TIMER_MS}`)
    .optional()
    .describe('per-call timeout in ms; default none'),
  loadTimeoutMs: integer(1, MAX_TIMER_MS, `an integer from 1 to ${MAX_TIMER_MS}`)
    .optional()
    .describe('load timeout in ms; default 10000'),
  drainTimeoutMs: integer(0, MAX_TIMER_MS, `an integer from 0 to ${MAX_TIMER_MS}`)
    .optional()
    .describe('drain timeout in ms; default 30000'),
  disposeTimeoutMs: integer(0, MAX_TIMER_MS, `an integer from 0 to ${MAX_TIMER_MS}`)
    .optional()
    .describe("each worker's cleanup (dispose) timeout in ms; default 5000; 0: no cleanup runs"),
  handover: z
    .enum(['overlap', 'drain-first'], {
      error: (issue) =>
        `expected "overlap" or "drain-first", received ${typeof issue.input === 'string' ? JSON.stringify(issue.input) : typeName(issue.input)}`,
    })
    .optional()
    .describe('"overlap" (default): the new version starts while the old drains; "drain-first": the old ends first'),
  maxQueue: integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer')
    .optional()
    .describe('calls waiting for a worker; default unlimited'),
  concurrency: integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer')
    .optional()
    .describe('calls in flight per worker; default unlimited'),
  resourceLimits: ResourceLimitsSchema.optional().describe(
    "Node's worker resourceLimits, merged key by key over defaults",
  ),
  integrity: IntegritySchema.optional().describe('SRI value(s) the plugin file must match; default none'),
  env: EnvSchema.optional().describe(
    '"inherit" (default), "none" or an object of variables; replaces, never merges with, defaults',
  ),
} satisfies Record<keyof PluginOptions, z.ZodType>;

const VersionSchema = z.string({
  error: (issue) =>
    `expected string, received ${typeName(issue.input)}${typeof issue.input === 'number' ? ' (put the version in quotes)' : ''}`,
});

/** Whether `value` has at most two decimals: a share of calls is routed in hundredths of a percent. */
function inHundredths(value: number): boolean {
  return Math.round(value * 100) / 100 === value;
}

/** Whether `value` is a share of calls: a percentage with at most two decimals, from 0 (or, `above0`, above it) to 100. */
function isShare(value: unknown, above0: boolean): boolean {
  return typeof value === 'number' && (above0 ? value > 0 : value >= 0) && value <= 100 && inHundredths(value);
}

function share(above0: boolean) {
  const error = expecting(`a number ${above0 ? 'above 0 and at most' : 'from 0 to'} 100 with at most two decimals`);
  return z.number({ error }).refine((value) => isShare(value, above0), { error });
}

const StepsSchema = z
  .array(share(true), { error: (issue) => `expected an array of numbers, received ${typeName(issue.input)}` })
  .min(1, { error: 'expected at least one step, received []' })
  .superRefine((steps, context) => {
    for (let i = 1; i < steps.length; i++) {
      const [before, step] = [steps[i - 1], steps[i]];
      // A step that is no share has its own issue; order is judged between shares only.
      if (!isShare(before, true) || !isShare(step, true) || step! > before!) continue;
      const message = `expected steps in strictly ascending order, received ${step} after ${before}`;
      context.addIssue({ code: 'custom', message, path: [i], input: step });
    }
  });

/** A canary's own keys besides the per-plugin options: what it runs, and its rollout (canary.ts has the defaults). */
const CANARY_SHAPE = {
  file: nonEmptyString.describe("the canary's plugin file, relative to the config file's folder"),
  name: nonEmptyString.optional().describe("export name; default the entry's"),
  version: VersionSchema.optional().describe("the canary's version, other than the entry's; required"),
  weight: share(false).optional().describe("the canary's share of the id's calls, in percent; or steps"),
  steps: StepsSchema.optional().describe('shares in percent, strictly ascending, one per stepMs; or weight'),
  stepMs: integer(1, MAX_TIMER_MS, `an integer from 1 to ${MAX_TIMER_MS}`)
    .optional()
    .describe('ms each step lasts; required with steps, refused without'),
  intervalMs: integer(1, MAX_TIMER_MS, `an integer from 1 to ${MAX_TIMER_MS}`)
    .optional()
    .describe("ms between judgements of the canary's figures; default 10000"),
  minCalls: integer(1, Number.MAX_SAFE_INTEGER, 'a positive integer')
    .optional()
    .describe('calls in a window before the canary is judged; default 100'),
  maxErrorRate: numberFrom(0, 100).optional().describe('error rate in percent above which it fails; default 1'),
  errorRateMargin: numberFrom(0, 100)
    .optional()
    .describe("percentage points over the stable's error rate it must also exceed to fail; default 1"),
  maxP99Ms: z
    .number({ error: expecting('a positive number') })
    .positive({ error: expecting('a positive number') })
    .optional()
    .describe('p99 latency in ms above which it fails; default none'),
  p99Factor: z
    .number({ error: expecting('a number of at least 1') })
    .min(1, { error: expecting('a number of at least 1') })
    .optional()
    .describe("factor over the stable's p99 above which it fails; default 2"),
  progressDeadlineMs: integer(1, MAX_TIMER_MS, `an integer from 1 to ${MAX_TIMER_MS}`)
    .optional()
    .describe('ms without enough calls to judge before a stalled event; default 600000'),
};

// Every per-plugin option too, each defaulting to the entry's.
const CanarySchema = z.strictObject({ ...CANARY_SHAPE, ...OPTIONS_SHAPE });

const PluginEntrySchema = z.strictObject({
  id: nonEmptyString.describe('stable plugin id'),
  file: nonEmptyString.describe("plugin file, relative to the config file's folder"),
  name: nonEmptyString.describe('export name; "default" allowed'),
  version: VersionSchema.optional().describe('free-text version'),
  ...OPTIONS_SHAPE,
  canary: CanarySchema.optional().describe('a second version taking a share of the calls: see Gradual rollout'),
});

/** The array form: plugin entries, nothing else. */
export const ArrayFileSchema = z.array(PluginEntrySchema);

// An RFC 3339 time, checked by hand (rfc3339.ts): zod's z.iso.datetime() takes no lower-case "t" or "z" and names no part at fault.
const ActivateAtSchema = z
  .string({ error: (issue) => `expected an RFC 3339 time (a string), received ${typeName(issue.input)}` })
  .superRefine((value, context) => {
    const problem = rfc3339Problem(value);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, input: value });
  });

/** The object form: `{ defaults?, plugins, activateAt? }`. */
export const ObjectFileSchema = z.strictObject({
  defaults: z.strictObject(OPTIONS_SHAPE).optional(),
  plugins: z.array(PluginEntrySchema),
  activateAt: ActivateAtSchema.optional().describe(
    'RFC 3339 time at which a change this config makes switches; default none: it switches once ready',
  ),
});

/** zod schema of the raw file: an array of plugin entries, or `{ defaults?, plugins }`. */
export const ConfigFileSchema = z.union([ArrayFileSchema, ObjectFileSchema]);

/** A config file that passed {@link ConfigFileSchema}, in either form. */
export type RawConfigFile = z.infer<typeof ConfigFileSchema>;

const OPTION_KEYS = Object.keys(OPTIONS_SHAPE);
const ENTRY_KEYS = Object.keys(PluginEntrySchema.shape);
const CANARY_KEYS = Object.keys(CanarySchema.shape);
const ROOT_KEYS = Object.keys(ObjectFileSchema.shape);

/** The keys the schema allows in the object at `where`, for "did you mean" hints on an unknown key there. */
export function knownKeysAt(where: readonly (string | number)[]): readonly string[] {
  if (where.length === 0) return ROOT_KEYS; // only the object form has keys at the root
  if (where.at(-1) === 'resourceLimits') return LIMIT_KEYS;
  if (where.at(-1) === 'canary') return CANARY_KEYS; // [i, 'canary'] or ['plugins', i, 'canary']
  if (where.length === 1 && where[0] === 'defaults') return OPTION_KEYS;
  return ENTRY_KEYS;
}
