/**
 * Config text to a validated {@link GleanConfig}, or one `GLEAN_CONFIG_INVALID` error listing every
 * problem at its place: JSON syntax, the schema (schema.ts), and what no schema can say (duplicate ids,
 * and a canary's cross-field rules: canary-rules.ts).
 */
import * as path from 'node:path';
import type * as z from 'zod';
import { ErrorCode, GleanError } from '../errors.js';
import { canaryEntry, type CanaryEntry } from './canary.js';
import { canaryIssues } from './canary-rules.js';
import { ConfigIssueCode, formatIssues, renderPath, type ConfigIssue, type IssuePath } from './issues.js';
import { findJsonSyntaxError, lineIndex, locateInJson } from './json-positions.js';
import { nearMiss } from './near-miss.js';
import { mergeOptions, type PluginOptions } from './options.js';
import { rfc3339EpochMs } from './rfc3339.js';
import { ArrayFileSchema, ObjectFileSchema, knownKeysAt, typeName, type IssueParams } from './schema.js';

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
  /** The entry's `canary`, a second version taking a share of its calls; `undefined` when it has none. */
  readonly canary: CanaryEntry | undefined;
}

/** A validated config file. */
export interface GleanConfig {
  /** Absolute config path as given (`path.resolve`d, symlinks not resolved). */
  readonly path: string;
  /** The folder holding the config file (or its link): plugin files resolve against it. */
  readonly dir: string;
  /** The plugin entries, in file order, ids unique. */
  readonly plugins: readonly PluginEntry[];
  /** The object form's `activateAt`, when it has one: when a change this config makes switches. */
  readonly activateAt?: ActivateAt;
}

/** A config's `activateAt`: the time at which the change it makes switches, on every replica reading it. */
export interface ActivateAt {
  /** The RFC 3339 time as written (`2026-12-01T21:00:00Z`). */
  readonly text: string;
  /** The same time as milliseconds since the epoch (a fraction beyond milliseconds cut off). */
  readonly epochMs: number;
}

/** Parses and validates config text; throws GleanError CONFIG_INVALID listing every problem, at its place. */
export function parseConfig(text: string, configPath: string): GleanConfig {
  const file = path.resolve(configPath);
  const dir = path.dirname(file);
  const invalid = (issues: readonly ConfigIssue[], cause?: unknown): GleanError =>
    new GleanError(ErrorCode.CONFIG_INVALID, formatIssues(file, issues), { issues, cause });

  const source = text.startsWith('\uFEFF') ? text.slice(1) : text; // editors on Windows may write a BOM
  if (/^[ \t\r\n]*$/.test(source)) {
    throw invalid([{ code: ConfigIssueCode.EMPTY_FILE, path: [], message: 'the file is empty' }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch (error) {
    throw invalid([jsonIssue(source, error as Error)], error);
  }
  if (typeof raw !== 'object' || raw === null) {
    const message = `expected an array of plugins or an object with "plugins", received ${typeName(raw)}`;
    throw invalid(placed(source, [{ code: ConfigIssueCode.INVALID_VALUE, path: [], message }]));
  }

  // Pick the branch by shape rather than parse the union: a union's errors would mix both shapes' complaints.
  const isArray = Array.isArray(raw);
  const result = isArray
    ? ArrayFileSchema.safeParse(raw, { reportInput: true })
    : ObjectFileSchema.safeParse(raw, { reportInput: true });
  const [entriesRaw, defaultsRaw] = isArray
    ? [raw, undefined]
    : [(raw as { plugins?: unknown }).plugins, (raw as { defaults?: unknown }).defaults];
  const prefix = isArray ? [] : ['plugins'];
  const issues = [
    ...(result.success ? [] : result.error.issues.flatMap(toConfigIssues)),
    ...duplicateIds(entriesRaw, prefix),
    ...canaryIssues(entriesRaw, prefix, defaultsRaw),
  ];
  if (!result.success || issues.length > 0) throw invalid(placed(source, inDocumentOrder(raw, issues)));

  const { defaults, plugins, activateAt } = Array.isArray(result.data)
    ? { defaults: undefined, plugins: result.data, activateAt: undefined }
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
        canary: entry.canary === undefined ? undefined : canaryEntry(dir, defaults, entry, entry.canary),
      }),
  );
  return Object.freeze({
    path: file,
    dir,
    plugins: Object.freeze(entries),
    ...(activateAt !== undefined && {
      activateAt: Object.freeze({ text: activateAt, epochMs: rfc3339EpochMs(activateAt) }),
    }),
  });
}

/**
 * An issue not yet placed in the text. `at`: where to place it when that is not the value at its path:
 * an unknown key's issue sits at its object and is placed at the key; a bad variable name at the name.
 */
interface Draft extends ConfigIssue {
  readonly at?: { readonly path: IssuePath; readonly key: true };
}

/** The issues with the line and column of their place in `source`, valid JSON. */
function placed(source: string, drafts: readonly Draft[]): ConfigIssue[] {
  const locations = locateInJson(
    source,
    drafts.map((draft) => draft.at?.path ?? draft.path),
  );
  const position = lineIndex(source);
  return drafts.map(({ at, ...issue }) => ({
    ...issue,
    ...position(at === undefined ? locations.offsetOf(issue.path) : locations.offsetOf(at.path, { key: true })),
  }));
}

function toConfigIssues(issue: z.core.$ZodIssue): Draft[] {
  const where = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      code: ConfigIssueCode.UNKNOWN_KEY,
      path: where,
      message: unknownKey(key, knownKeysAt(where)),
      at: { path: [...where, key], key: true },
    }));
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ code: ConfigIssueCode.MISSING_KEY, path: where, message: `missing, expected ${issue.expected}` }];
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  const atKey = issue.code === 'custom' && (issue.params as IssueParams | undefined)?.atKey === true;
  return [
    { code: ConfigIssueCode.INVALID_VALUE, path: where, message, ...(atKey && { at: { path: where, key: true } }) },
  ];
}

function unknownKey(key: string, known: readonly string[]): string {
  const best = nearMiss(key, known);
  return `unknown key ${JSON.stringify(key)}${best === undefined ? '' : `; did you mean ${JSON.stringify(best)}?`}`;
}

function duplicateIds(entries: unknown, prefix: IssuePath): Draft[] {
  if (!Array.isArray(entries)) return [];
  const firstAt = new Map<string, number>();
  const issues: Draft[] = [];
  entries.forEach((entry: unknown, index) => {
    const id = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || id === '') return;
    const first = firstAt.get(id);
    if (first === undefined) firstAt.set(id, index);
    else
      issues.push({
        code: ConfigIssueCode.DUPLICATE_ID,
        path: [...prefix, index, 'id'],
        message: `duplicate id ${JSON.stringify(id)} (also at ${renderPath([...prefix, first])})`,
      });
  });
  return issues;
}

/** Sorts issues (stably) by where their path sits in the document; keys absent from the document go last in their object. */
function inDocumentOrder(raw: unknown, issues: readonly Draft[]): Draft[] {
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

/**
 * The one issue of text JSON.parse refused, placed and worded by glean's own reading of the text
 * (json-positions.ts), not by the engine's message, which differs between Node versions.
 */
function jsonIssue(text: string, error: Error): ConfigIssue {
  const found = findJsonSyntaxError(text);
  // Only if the two readings of JSON ever disagreed: the engine's own words, at no place.
  if (found === undefined)
    return { code: ConfigIssueCode.JSON_SYNTAX, path: [], message: `invalid JSON: ${error.message}` };
  return {
    code: ConfigIssueCode.JSON_SYNTAX,
    path: [],
    message: `invalid JSON: ${found.problem}`,
    ...lineIndex(text)(found.offset),
  };
}
