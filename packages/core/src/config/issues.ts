/** How config issues read for people: the message of a `GLEAN_CONFIG_INVALID` error, one issue a line. */
import type { ConfigIssue } from '../errors.js';

/** A path into the document, as zod gives it: keys and indexes from the top. */
export type IssuePath = readonly (string | number)[];

/** `config /srv/plugin.json is invalid:` and then each issue on its own line, at its place. */
export function formatIssues(file: string, issues: readonly ConfigIssue[]): string {
  return [`config ${file} is invalid:`, ...issues.map((issue) => `  ${renderPath(issue.path)}: ${issue.message}`)].join(
    '\n',
  );
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
