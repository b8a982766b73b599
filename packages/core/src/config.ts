import * as path from 'node:path';
import * as z from 'zod';
import { ErrorCode, GleanError, type ConfigIssue } from './errors.js';
import { integrityProblem } from './integrity.js';
import { MAX_CONFIG_BYTES, RefusedFileError, readRegularFile } from './read-file.js';

/**
 * Node's worker `resourceLimits`, in megabytes; each absent key keeps Node's default. Each is bounded
 * (a value outside is `GLEAN_CONFIG_INVALID`), as Node would let some values abort the whole process.
 */
export interface ResourceLimits {
  /** Heap for long-lived objects, 16..1048576. */
  maxOldGenerationSizeMb?: number;
  /** Heap for new objects, 1..1048576. */
  maxYoungGenerationSizeMb?: number;
  /** Address space reserved for compiled code, per thread, 1..1024. */
  codeRangeSizeMb?: number;
  /** The thread's stack, 1..1024; Node's default is 4. */
  stackSizeMb?: number;
}

/**
 * What a plugin's `process.env` starts as: `'inherit'`, a copy of the host's variables as they are when
 * each worker starts; `'none'`, no variables; or exactly the variables given. Either way it is the
 * worker's own copy: what a plugin changes in it reaches neither the host nor other versions.
 */
export type EnvOption = 'inherit' | 'none' | Readonly<Record<string, string>>;

/** How one plugin version runs; see {@link DEFAULT_PLUGIN_OPTIONS} for the defaults. */
export interface PluginOptions {
  /** Worker threads for this version, 1..256; default 1. */
  threads: number;
  /** Per-call timeout in ms; default `undefined` (none). */
  timeoutMs: number | undefined;
  /** Time allowed for the plugin file to load, in ms; default 10000. */
  loadTimeoutMs: number;
  /** Time calls on a retired version may still run before its workers are terminated, in ms; default 30000. */
  drainTimeoutMs: number;
  /** Calls that may wait for a worker; default `Infinity`. */
  maxQueue: number;
  /** Calls in flight per worker; default `Infinity`. */
  concurrency: number;
  /** Node's worker resource limits, merged key by key over `defaults` and the built-in `{ maxOldGenerationSizeMb: 1024 }`; other keys keep Node's own. */
  resourceLimits: ResourceLimits | undefined;
  /** Subresource Integrity value(s) the plugin file's bytes must match (`sha384-<base64>`, space-separated for several); default `undefined` (not checked). */
  integrity: string | undefined;
  /** The plugin's environment variables, see {@link EnvOption}; default `'inherit'`. */
  env: EnvOption;
}

/** Built-in option values, used where neither the plugin entry nor `defaults` sets one. */
export const DEFAULT_PLUGIN_OPTIONS: Readonly<PluginOptions> = Object.freeze({
  threads: 1,
  timeoutMs: undefined,
  loadTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  maxQueue: Infinity,
  concurrency: Infinity,
  // A leaking plugin dies alone at 1 GiB of heap instead of growing with the host's limit.
  resourceLimits: Object.freeze({ maxOldGenerationSizeMb: 1024 }),
  integrity: undefined,
  env: 'inherit',
});

/** One validated plugin entry of the config, with its options merged over `defaults` and the built-ins. */
export interface PluginEntry {
  /** The stable id handles are asked for by. */
  readonly id: string;
  /** Absolute plugin file: `path.resolve(configDir, fileAsWritten)`. */
  readonly file: string;
  /** The `file` value as written in the config. */
  readonly fileAsWritten: string;
  /** The export name (`default` allowed). */
  readonly name: string;
  /** Free-text version; `''` when absent. */
  readonly version: string;
  /** Effective options. */
  readonly options: Readonly<PluginOptions>;
}

/** A validated config file. */
export interface GleanConfig {
  /** Absolute config path as given (`path.resolve`d, symlinks not resolved). */
  readonly path: string;
  /** The folder holding the config file (or its link): plugin files resolve against it. */
  readonly dir: string;
  /** The plugin entries, in file order, ids unique. */
  readonly plugins: readonly PluginEntry[];
}

// setTimeout fires at once (with a warning) for delays above 2^31-1 ms, so no timeout may exceed it.
const MAX_TIMER_MS = 2_147_483_647;

function typeName(value: unknown): string {
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

/**
 * The range of each resource limit, in MB. Node passes these to V8 and to the thread's stack unchecked,
 * and some values outside them take the whole process down, not the worker (measured on Node 20.20,
 * 22.23 and 24.22, x64 Linux; docs/errors.md has the numbers):
 * - `stackSizeMb` at 0.23 or less overflows the stack while the thread boots (exit 6, SIGSEGV or exit 10
 *   by version), from 2^44 (1.8e13) it wraps around to the same; from about the machine's RAM the thread
 *   cannot start (ERR_WORKER_INIT_FAILED).
 * - `maxOldGenerationSizeMb` at 2.4 or less is a fatal out-of-memory (SIGTRAP) on Node 22 and 24; glean's
 *   own worker needs more than 8 to load on them.
 * - `codeRangeSizeMb` is reserved as address space by every thread: 8e7 for one thread, or 2e5 for 600,
 *   exhausts it (SIGTRAP, "Failed to reserve virtual memory for CodeRange").
 * - `maxYoungGenerationSizeMb` did no harm at any value; V8 clamps it.
 * Each range keeps well inside what started a worker and served a call on all three.
 */
export const RESOURCE_LIMIT_RANGES = {
  maxOldGenerationSizeMb: { min: 16, max: 1_048_576 },
  maxYoungGenerationSizeMb: { min: 1, max: 1_048_576 },
  codeRangeSizeMb: { min: 1, max: 1024 },
  stackSizeMb: { min: 1, max: 1024 },
} as const satisfies Record<keyof ResourceLimits, { min: number; max: number }>;

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
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, path: [name], input: text });
  }
});

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
};

const PluginEntrySchema = z.strictObject({
  id: nonEmptyString.describe('stable plugin id'),
  file: nonEmptyString.describe("plugin file, relative to the config file's folder"),
  name: nonEmptyString.describe('export name; "default" allowed'),
  version: z
    .string({
      error: (issue) =>
        `expected string, received ${typeName(issue.input)}${typeof issue.input === 'number' ? ' (put the version in quotes)' : ''}`,
    })
    .optional()
    .describe('free-text version'),
  ...OPTIONS_SHAPE,
});

const ArrayFileSchema = z.array(PluginEntrySchema);
const ObjectFileSchema = z.strictObject({
  defaults: z.strictObject(OPTIONS_SHAPE).optional(),
  plugins: z.array(PluginEntrySchema),
});

/** zod schema of the raw file: an array of plugin entries, or `{ defaults?, plugins }`. */
export const ConfigFileSchema = z.union([ArrayFileSchema, ObjectFileSchema]);

type RawOptions = z.infer<typeof ObjectFileSchema>['plugins'][number];
type RawDefaults = NonNullable<z.infer<typeof ObjectFileSchema>['defaults']>;
type IssuePath = readonly (string | number)[];

const OPTION_KEYS = Object.keys(DEFAULT_PLUGIN_OPTIONS) as (keyof PluginOptions)[];
const LIMIT_KEYS = Object.keys(ResourceLimitsSchema.shape) as (keyof ResourceLimits)[];
const ENTRY_KEYS = Object.keys(PluginEntrySchema.shape);
const ROOT_KEYS = Object.keys(ObjectFileSchema.shape);

/** The one issue of a config file with nothing but whitespace in it. */
export const EMPTY_CONFIG = 'the file is empty';

/** Parses and validates config text; throws GleanError CONFIG_INVALID listing every problem, at its place. */
export function parseConfig(text: string, configPath: string): GleanConfig {
  const file = path.resolve(configPath);
  const dir = path.dirname(file);
  const invalid = (issues: readonly ConfigIssue[], cause?: unknown): GleanError =>
    new GleanError(ErrorCode.CONFIG_INVALID, formatIssues(file, issues), { issues, cause });

  const source = text.startsWith('\uFEFF') ? text.slice(1) : text; // editors on Windows may write a BOM
  if (/^[ \t\r\n]*$/.test(source)) throw invalid([{ path: [], message: EMPTY_CONFIG }]);
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch (error) {
    throw invalid([jsonIssue(source, error as Error)], error);
  }
  if (typeof raw !== 'object' || raw === null) {
    throw invalid([
      { path: [], message: `expected an array of plugins or an object with "plugins", received ${typeName(raw)}` },
    ]);
  }

  // Pick the branch by shape rather than parse the union: a union's errors would mix both shapes' complaints.
  const isArray = Array.isArray(raw);
  const result = isArray
    ? ArrayFileSchema.safeParse(raw, { reportInput: true })
    : ObjectFileSchema.safeParse(raw, { reportInput: true });
  const issues = [
    ...(result.success ? [] : result.error.issues.flatMap(toConfigIssues)),
    ...duplicateIds(isArray ? raw : (raw as { plugins?: unknown }).plugins, isArray ? [] : ['plugins']),
  ];
  if (!result.success || issues.length > 0) throw invalid(inDocumentOrder(raw, issues));

  const { defaults, plugins } = Array.isArray(result.data)
    ? { defaults: undefined, plugins: result.data }
    : result.data;
  const entries = plugins.map(
    (entry): PluginEntry =>
      Object.freeze({
        id: entry.id,
        file: path.resolve(dir, entry.file),
        fileAsWritten: entry.file,
        name: entry.name,
        version: entry.version ?? '',
        options: mergeOptions(defaults, entry),
      }),
  );
  return Object.freeze({ path: file, dir, plugins: Object.freeze(entries) });
}

/**
 * Reads then parses. The config must be a regular file (a symlink to one is followed) of at most
 * {@link MAX_CONFIG_BYTES}; a FIFO or a device is refused without waiting on it. Throws GleanError
 * CONFIG_UNREADABLE naming the path and the errno code (ENOENT, EISDIR, EACCES, ELOOP, …), or what the
 * file is ("a FIFO, not a regular file") or its size over the limit.
 */
export async function readConfig(configPath: string): Promise<GleanConfig> {
  const file = path.resolve(configPath);
  let text: string;
  try {
    text = (await readRegularFile(file, MAX_CONFIG_BYTES, { follow: true })).toString('utf8');
  } catch (error) {
    if (error instanceof RefusedFileError) {
      throw new GleanError(ErrorCode.CONFIG_UNREADABLE, `config ${file} is unreadable: ${error.reason}`, {
        cause: error,
      });
    }
    const { code, message } = error as NodeJS.ErrnoException;
    // "ENOENT: no such file or directory, open '/x'" and "EISDIR: illegal operation on a directory, read" → the middle part
    const what = /^[A-Z0-9_]+: (.*?)(?:, [a-z]+(?: '.*)?)?$/s.exec(message)?.[1] ?? message;
    throw new GleanError(ErrorCode.CONFIG_UNREADABLE, `config ${file} is unreadable: ${code ?? 'error'} (${what})`, {
      cause: error,
    });
  }
  return parseConfig(text, configPath);
}

/** Deep equality of two option sets; an empty `resourceLimits` equals an absent one, `env` objects compare by content. */
export function pluginOptionsEqual(a: PluginOptions, b: PluginOptions): boolean {
  return optionsKey(a) === optionsKey(b);
}

/** Canonical string of an option set: equal strings exactly when {@link pluginOptionsEqual}. Internal, for version identity. */
export function optionsKey(options: PluginOptions): string {
  const parts = OPTION_KEYS.filter((key) => key !== 'resourceLimits' && key !== 'integrity' && key !== 'env').map(
    (key) => `${key}=${String(options[key])}`,
  );
  // JSON for the free-text options, so no value can fake a separator; env's keys sorted, as their order means nothing.
  const { integrity, env } = options;
  parts.push(`integrity=${integrity === undefined ? 'none' : JSON.stringify(integrity)}`);
  parts.push(
    `env=${typeof env === 'string' ? env : JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`,
  );
  for (const key of LIMIT_KEYS) {
    const value = options.resourceLimits?.[key];
    if (value !== undefined) parts.push(`resourceLimits.${key}=${value}`);
  }
  return parts.join(';');
}

function mergeOptions(defaults: RawDefaults | undefined, own: RawOptions): Readonly<PluginOptions> {
  const limits: ResourceLimits = {};
  for (const key of LIMIT_KEYS) {
    const value =
      own.resourceLimits?.[key] ?? defaults?.resourceLimits?.[key] ?? DEFAULT_PLUGIN_OPTIONS.resourceLimits?.[key];
    if (value !== undefined) limits[key] = value;
  }
  const base = DEFAULT_PLUGIN_OPTIONS;
  return Object.freeze({
    threads: own.threads ?? defaults?.threads ?? base.threads,
    timeoutMs: own.timeoutMs ?? defaults?.timeoutMs ?? base.timeoutMs,
    loadTimeoutMs: own.loadTimeoutMs ?? defaults?.loadTimeoutMs ?? base.loadTimeoutMs,
    drainTimeoutMs: own.drainTimeoutMs ?? defaults?.drainTimeoutMs ?? base.drainTimeoutMs,
    maxQueue: own.maxQueue ?? defaults?.maxQueue ?? base.maxQueue,
    concurrency: own.concurrency ?? defaults?.concurrency ?? base.concurrency,
    resourceLimits: Object.keys(limits).length > 0 ? Object.freeze(limits) : undefined,
    integrity: own.integrity ?? defaults?.integrity ?? base.integrity,
    // An entry's env replaces the defaults' whole: merging could not express "all of these but not that one".
    env: freezeEnv(own.env ?? defaults?.env ?? base.env),
  });
}

function freezeEnv(env: EnvOption): EnvOption {
  return typeof env === 'string' ? env : Object.freeze({ ...env });
}

function formatIssues(file: string, issues: readonly ConfigIssue[]): string {
  return [`config ${file} is invalid:`, ...issues.map((issue) => `  ${renderPath(issue.path)}: ${issue.message}`)].join(
    '\n',
  );
}

function renderPath(issuePath: IssuePath): string {
  if (issuePath.length === 0) return '(root)';
  let out = '';
  for (const key of issuePath) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const where = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: where, message: unknownKey(key, knownKeysAt(where)) }));
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ path: where, message: `missing, expected ${issue.expected}` }];
  }
  return [{ path: where, message: issue.message.replace(/^Invalid input: /, '') }];
}

function knownKeysAt(where: IssuePath): readonly string[] {
  if (where.length === 0) return ROOT_KEYS; // only the object form has keys at the root
  if (where.at(-1) === 'resourceLimits') return LIMIT_KEYS;
  if (where.length === 1 && where[0] === 'defaults') return OPTION_KEYS;
  return ENTRY_KEYS;
}

function unknownKey(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3; // suggest only within 2 edits
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    // Never suggest a key that shares nothing with the typo ("x" is 2 edits from "id").
    if (distance < bestDistance && distance < candidate.length) [best, bestDistance] = [candidate, distance];
  }
  return `unknown key ${JSON.stringify(key)}${best === undefined ? '' : `; did you mean ${JSON.stringify(best)}?`}`;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i]![j] = best;
    }
  }
  return at(a.length, b.length);
}

function duplicateIds(entries: unknown, prefix: IssuePath): ConfigIssue[] {
  if (!Array.isArray(entries)) return [];
  const firstAt = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  entries.forEach((entry: unknown, index) => {
    const id = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || id === '') return;
    const first = firstAt.get(id);
    if (first === undefined) firstAt.set(id, index);
    else
      issues.push({
        path: [...prefix, index, 'id'],
        message: `duplicate id ${JSON.stringify(id)} (also at ${renderPath([...prefix, first])})`,
      });
  });
  return issues;
}

/** Sorts issues (stably) by where their path sits in the document; keys absent from the document go last in their object. */
function inDocumentOrder(raw: unknown, issues: readonly ConfigIssue[]): ConfigIssue[] {
  const rank = (issuePath: IssuePath): number[] => {
    const ranks: number[] = [];
    let node = raw;
    for (const key of issuePath) {
      const container =
        typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>) : undefined;
      const index =
        typeof key === 'number'
          ? key
          : container && !Array.isArray(container)
            ? Object.keys(container).indexOf(key)
            : -1;
      ranks.push(index === -1 ? Infinity : index);
      node = container?.[key];
    }
    return ranks;
  };
  const compare = (a: number[], b: number[]): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return a.length - b.length;
  };
  // Drop repeats: an unsafe integer fails both z.int() and its max with the same message.
  const unique = [...new Map(issues.map((issue) => [JSON.stringify([issue.path, issue.message]), issue])).values()];
  return unique
    .map((issue) => ({ issue, rank: rank(issue.path) }))
    .sort((a, b) => compare(a.rank, b.rank))
    .map(({ issue }) => issue);
}

function jsonIssue(text: string, error: Error): ConfigIssue {
  const said = error.message;
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(said);
  const position = /at position (\d+)/.exec(said);
  let where: { line: number; column: number };
  if (lineColumn) where = { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  else if (position) where = locate(text, Number(position[1]));
  else if (/end of JSON input/.test(said)) where = locate(text, text.trimEnd().length);
  else where = locate(text, firstBadOffset(text)); // Node 20 gives no position for "Unexpected token"
  const what = said
    .replace(/^([\s\S]*?), (?:\.\.\.)?"[\s\S]*is not valid JSON$/, '$1') // drop V8's quoted excerpt of the document
    .replace(/( in JSON)? at position \d+.*$/s, '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes for display
    .replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1))
    .trim();
  return {
    path: [],
    message: `invalid JSON at line ${where.line}, column ${where.column}: ${what.charAt(0).toLowerCase()}${what.slice(1)}`,
  };
}

function locate(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** Offset of the first character no JSON document can continue with: one past the longest prefix that could still become valid. */
function firstBadOffset(text: string): number {
  const couldContinue = (prefix: string): boolean => {
    try {
      JSON.parse(prefix);
      return true;
    } catch (error) {
      const said = (error as Error).message;
      const position = /at position (\d+)/.exec(said);
      return position ? Number(position[1]) >= prefix.length : /end of JSON input/.test(said);
    }
  };
  let good = 0; // text.slice(0, good) could continue; text.slice(0, bad) cannot
  let bad = text.length;
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    if (couldContinue(text.slice(0, middle))) good = middle;
    else bad = middle;
  }
  return good;
}
