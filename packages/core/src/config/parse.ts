/**
 * Config text to a validated {@link GleanConfig}, or one `GLEAN_CONFIG_INVALID` error listing every
 * problem at its place: JSON syntax, the schema (schema.ts), and what no schema can say (duplicate ids).
 */
import * as path from 'node:path';
import type * as z from 'zod';
import { ErrorCode, GleanError } from '../errors.js';
import { ConfigIssueCode, formatIssues, renderPath, type ConfigIssue, type IssuePath } from './issues.js';
import { firstBadOffset, positionAt, type TextPosition } from './json-positions.js';
import { nearMiss } from './near-miss.js';
import { mergeOptions, type PluginOptions } from './options.js';
import { ArrayFileSchema, ObjectFileSchema, knownKeysAt, typeName } from './schema.js';

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
    throw invalid([
      {
        code: ConfigIssueCode.INVALID_VALUE,
        path: [],
        message: `expected an array of plugins or an object with "plugins", received ${typeName(raw)}`,
      },
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

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const where = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      code: ConfigIssueCode.UNKNOWN_KEY,
      path: where,
      message: unknownKey(key, knownKeysAt(where)),
    }));
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ code: ConfigIssueCode.MISSING_KEY, path: where, message: `missing, expected ${issue.expected}` }];
  }
  return [{ code: ConfigIssueCode.INVALID_VALUE, path: where, message: issue.message.replace(/^Invalid input: /, '') }];
}

function unknownKey(key: string, known: readonly string[]): string {
  const best = nearMiss(key, known);
  return `unknown key ${JSON.stringify(key)}${best === undefined ? '' : `; did you mean ${JSON.stringify(best)}?`}`;
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
        code: ConfigIssueCode.DUPLICATE_ID,
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
  let where: TextPosition;
  if (lineColumn) where = { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  else if (position) where = positionAt(text, Number(position[1]));
  else if (/end of JSON input/.test(said)) where = positionAt(text, text.trimEnd().length);
  else where = positionAt(text, firstBadOffset(text)); // Node 20 gives no position for "Unexpected token"
  const what = said
    .replace(/^([\s\S]*?), (?:\.\.\.)?"[\s\S]*is not valid JSON$/, '$1') // drop V8's quoted excerpt of the document
    .replace(/( in JSON)? at position \d+.*$/s, '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes for display
    .replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1))
    .trim();
  return {
    code: ConfigIssueCode.JSON_SYNTAX,
    path: [],
    message: `invalid JSON at line ${where.line}, column ${where.column}: ${what.charAt(0).toLowerCase()}${what.slice(1)}`,
  };
}
