/**
 * One source for the error codes: the `ErrorCode` table in errors.ts, each entry documented where it is
 * defined (when it is raised, then `Do:` what to do). docs/errors.md repeats those words in its table of
 * codes; every code the docs mention exists; every code is raised somewhere in the packages' sources,
 * unless its entry says it is reserved. Reads files only: no threads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '../packages/core/src/errors.js';

const ROOT = join(import.meta.dirname, '..');
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const ERRORS_TS = 'packages/core/src/errors.ts';

/** Whitespace as one space, as Markdown and a JSDoc block read it. */
const squash = (text: string): string => text.replace(/\s+/g, ' ').trim();

interface Entry {
  readonly key: string;
  readonly code: string;
  readonly when: string;
  readonly what: string;
  readonly reserved: boolean;
}

/** The entries of `export const ErrorCode = { … }` in errors.ts, with their JSDoc split at `Do:`. */
function documentedEntries(): Entry[] {
  const source = read(ERRORS_TS);
  const table = /export const ErrorCode = \{([\s\S]*?)\n\} as const;/.exec(source)?.[1];
  if (table === undefined) throw new Error(`no ErrorCode table in ${ERRORS_TS}`);
  return [...table.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+): '(GLEAN_\w+)',/g)].map(
    ([, doc = '', key = '', code = '']) => {
      const text = squash(doc.replace(/^\s*\* ?/gm, ''));
      const [when = '', what = ''] = text.split(/ ?\bDo: /);
      return { key, code, when, what, reserved: /^Reserved\b/.test(text) };
    },
  );
}

/** The rows of docs/errors.md's table of codes: the table whose header is `code | when | what to do`. */
function docsTable(): { code: string; when: string; what: string }[] {
  const lines = read('docs/errors.md').split('\n');
  const header = lines.findIndex((line) => /^\|\s*code\s*\|\s*when\s*\|\s*what to do\s*\|$/.test(line));
  if (header === -1) throw new Error('docs/errors.md has no table of codes (| code | when | what to do |)');
  const rows: { code: string; when: string; what: string }[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [code = '', when = '', what = ''] = line.slice(1, -1).split('|').map(squash);
    rows.push({ code: code.replace(/^`(.*)`$/, '$1'), when, what });
  }
  return rows;
}

function filesUnder(folder: string, keep: (file: string) => boolean): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .filter(keep);
}

const entries = documentedEntries();

describe('ErrorCode documents each code where it is defined', () => {
  test('the entries read from errors.ts are the whole table, in order', () => {
    expect(Object.fromEntries(entries.map(({ key, code }) => [key, code]))).toEqual(ErrorCode);
    expect(entries.map(({ key }) => key)).toEqual(Object.keys(ErrorCode));
  });

  test.each(entries.map((entry) => [entry.code, entry] as const))('%s says when, and what to do', (_code, entry) => {
    expect(entry.when.length).toBeGreaterThan(10);
    if (!entry.reserved) expect(entry.what.length).toBeGreaterThan(3);
  });

  test('each key is its code without the GLEAN_ prefix', () => {
    for (const { key, code } of entries) expect(code).toBe(`GLEAN_${key}`);
  });
});

describe('docs/errors.md', () => {
  test("its table of codes lists every code, in ErrorCode's order, in ErrorCode's words", () => {
    expect(docsTable()).toEqual(entries.map(({ code, when, what }) => ({ code, when, what })));
  });

  test('every code has a section of detail', () => {
    const headings = read('docs/errors.md').match(/^### `GLEAN_\w+`$/gm) ?? [];
    expect(headings.map((heading) => heading.slice(5, -1)).sort()).toEqual(Object.values(ErrorCode).sort());
  });
});

describe('the docs name no code that does not exist', () => {
  const docs = ['README.md', 'SECURITY.md', ...filesUnder('docs', (file) => file.endsWith('.md'))];

  test.each(docs)('%s', (file) => {
    const known = new Set<string>(Object.values(ErrorCode));
    const named = read(file).match(/\bGLEAN_[A-Z0-9_]+\b/g) ?? [];
    expect(named.filter((code) => !known.has(code))).toEqual([]);
  });

  test('the docs checked include the ones that name codes most', () => {
    expect(docs).toEqual(
      expect.arrayContaining(['README.md', 'SECURITY.md', 'docs/errors.md', 'docs/architecture.md']),
    );
  });
});

describe('every code is raised somewhere', () => {
  const sources = filesUnder('packages', (file) => /^packages\/[^/]+\/src\/.*\.ts$/.test(file)).map((file) => ({
    file,
    // The table itself is not a use; a table that aliases codes (`BODY_TOO_LARGE: ErrorCode.HTTP_BODY_TOO_LARGE,`) is not one either.
    text: file === ERRORS_TS ? read(file).replace(/export const ErrorCode = \{[\s\S]*?\n\} as const;/, '') : read(file),
  }));
  /** Names a code goes by besides its key: `HttpErrorCode.BODY_TOO_LARGE` for `ErrorCode.HTTP_BODY_TOO_LARGE`. */
  const aliases = new Map<string, string[]>();
  for (const { text } of sources) {
    for (const [, alias = '', key = ''] of text.matchAll(/^\s*(\w+): ErrorCode\.(\w+),$/gm)) {
      aliases.set(key, [...(aliases.get(key) ?? []), alias]);
    }
  }
  /** Whether a line that is neither a comment ({@link ErrorCode.X}) nor an alias definition names `ErrorCode.<name>` or an alias table's. */
  const used = (name: string): boolean =>
    sources.some(({ text }) =>
      text
        .split('\n')
        .filter((line) => !/^\s*(\/\/|\/?\*)/.test(line) && !/^\s*\w+: ErrorCode\.\w+,$/.test(line))
        .some((line) => new RegExp(`\\b\\w*ErrorCode\\.${name}\\b`).test(line)),
    );

  test('the packages are read', () => {
    expect(sources.map(({ file }) => file)).toEqual(
      expect.arrayContaining([
        'packages/core/src/glean.ts',
        'packages/core/src/http/body.ts',
        'packages/worker/src/entry.ts',
      ]),
    );
  });

  test.each(entries.filter(({ reserved }) => !reserved).map(({ key }) => key))('ErrorCode.%s', (key) => {
    expect(used(key) || (aliases.get(key) ?? []).some(used)).toBe(true);
  });
});
