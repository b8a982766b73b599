/**
 * Config problems as data (`{ code, path, message }`, as zod's issues are), and how they read for
 * people: the message of a `GLEAN_CONFIG_INVALID` error, one issue a line.
 */

/** What kind of problem a {@link ConfigIssue} is. */
export const ConfigIssueCode = {
  /**
   * The file holds nothing but whitespace (a byte-order mark aside); it is then the only issue. A file
   * written in place is empty for a moment, so a watching Glean reads it again before reporting this.
   */
  EMPTY_FILE: 'empty-file',
  /** The text is not JSON; it is then the only issue, at the first character no JSON document can continue with. */
  JSON_SYNTAX: 'json-syntax',
  /** A key the schema requires is absent from the object at `path`. */
  MISSING_KEY: 'missing-key',
  /** The object at `path` has a key the schema does not know; the message names it, and a near miss it may be of. */
  UNKNOWN_KEY: 'unknown-key',
  /** The value at `path` is of the wrong type, out of range, or malformed (the root too: neither an array nor an object). */
  INVALID_VALUE: 'invalid-value',
  /** The entry's id is an earlier entry's too; the issue sits at the later one and names the first. */
  DUPLICATE_ID: 'duplicate-id',
} as const;

/** One of the {@link ConfigIssueCode} values, such as `'json-syntax'`. */
export type ConfigIssueCode = (typeof ConfigIssueCode)[keyof typeof ConfigIssueCode];

/** A path into the document: keys and indexes from the top, as zod gives them. */
export type IssuePath = readonly (string | number)[];

/**
 * Where a problem sits in a config file, as data:
 * `{ code: 'invalid-value', path: ['plugins', 1, 'file'], message: 'expected string, received number', line: 7, column: 15 }`.
 */
export interface ConfigIssue {
  /** What kind of problem it is; match on this, not on `message`. */
  readonly code: ConfigIssueCode;
  /** Keys and indexes from the top of the document to the offending value; empty for the whole document. */
  readonly path: IssuePath;
  /** What is wrong there, for people; it names neither the path nor the line. */
  readonly message: string;
  /**
   * Where in the text, from 1, columns in UTF-16 code units (a byte-order mark not counted): the offending
   * value, or the unknown key, or for a missing key the object that lacks it, or the syntax error.
   * Absent for an empty file.
   */
  readonly line?: number;
  /** The column on {@link ConfigIssue.line}, from 1. */
  readonly column?: number;
}

/**
 * `config /srv/plugin.json is invalid:` and then each issue on its own line, at its place:
 * `plugins[1].file (line 7, column 15): expected string, received number`; an issue of the whole
 * document by its line alone (`line 3, column 1: invalid JSON: unexpected token ']'`).
 */
export function formatIssues(file: string, issues: readonly ConfigIssue[]): string {
  return [`config ${file} is invalid:`, ...issues.map((issue) => `  ${renderPlace(issue)}: ${issue.message}`)].join(
    '\n',
  );
}

function renderPlace({ path, line, column }: ConfigIssue): string {
  if (line === undefined || column === undefined) return renderPath(path);
  const at = `line ${line}, column ${column}`;
  return path.length === 0 ? at : `${renderPath(path)} (${at})`;
}

/**
 * A path as JavaScript would write it: `plugins[0].env.PORT`, `env["A=B"]`, `(root)` for the whole document.
 * zod 4 has the same (`z.core.toDotPath`), except that it renders an empty key as a trailing dot
 * (`env.` for `env[""]`), which hides the very problem ("a variable name cannot be empty").
 */
export function renderPath(path: IssuePath): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
