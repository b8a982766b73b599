/**
 * Config issues as data: each kind of problem has its own code, the way a program (glean's own run
 * loop, an editor integration) tells them apart without reading messages. Pure: no threads, no files.
 */
import { describe, expect, test } from 'vitest';
import * as z from 'zod';
import { parseConfig } from '../packages/core/src/config.js';
import { ConfigIssueCode, formatIssues, renderPath, type ConfigIssue } from '../packages/core/src/config/issues.js';
import { ErrorCode, GleanError } from '../packages/core/src/errors.js';

/** The issues parseConfig reports for `text`. */
function issuesOf(text: string): readonly ConfigIssue[] {
  try {
    parseConfig(text, '/cfg/plugin.json');
  } catch (error) {
    expect(error).toBeInstanceOf(GleanError);
    expect((error as GleanError).code).toBe(ErrorCode.CONFIG_INVALID);
    return (error as GleanError).issues ?? [];
  }
  throw new Error(`expected parseConfig to reject ${JSON.stringify(text)}`);
}

const entry = { id: 'Foo', file: 'foo.js', name: 'Foo' };

// One case per code at least; the last test checks that every code has one.
const CASES: readonly [what: string, text: string, expected: readonly Pick<ConfigIssue, 'code' | 'path'>[]][] = [
  ['an empty file', '', [{ code: 'empty-file', path: [] }]],
  ['whitespace only', ' \r\n\t\n', [{ code: 'empty-file', path: [] }]],
  ['a byte-order mark and a newline', '\uFEFF\n', [{ code: 'empty-file', path: [] }]],
  ['not JSON', 'plugins: []', [{ code: 'json-syntax', path: [] }]],
  ['a trailing comma', '[{"id": "a", "file": "a.js", "name": "a"},]', [{ code: 'json-syntax', path: [] }]],
  ['a root that is a string', '"plugins"', [{ code: 'invalid-value', path: [] }]],
  ['a missing key', JSON.stringify([{ id: 'Foo', name: 'Foo' }]), [{ code: 'missing-key', path: [0, 'file'] }]],
  ['a missing plugins list', '{}', [{ code: 'missing-key', path: ['plugins'] }]],
  ['an unknown key', JSON.stringify([{ ...entry, thread: 2 }]), [{ code: 'unknown-key', path: [0] }]],
  ['a wrong type', JSON.stringify([{ ...entry, threads: '2' }]), [{ code: 'invalid-value', path: [0, 'threads'] }]],
  [
    'a value out of range',
    JSON.stringify([{ ...entry, threads: 0 }]),
    [{ code: 'invalid-value', path: [0, 'threads'] }],
  ],
  [
    'a malformed integrity',
    JSON.stringify([{ ...entry, integrity: 'md5-x' }]),
    [{ code: 'invalid-value', path: [0, 'integrity'] }],
  ],
  [
    'a bad env variable',
    JSON.stringify([{ ...entry, env: { '': 'x' } }]),
    [{ code: 'invalid-value', path: [0, 'env', ''] }],
  ],
  ['a repeated id', JSON.stringify([entry, entry]), [{ code: 'duplicate-id', path: [1, 'id'] }]],
  [
    'a canary with neither weight nor steps',
    JSON.stringify([{ ...entry, canary: { file: 'foo-2.js', version: '2' } }]),
    [{ code: 'missing-key', path: [0, 'canary'] }],
  ],
  [
    "a canary with the entry's version",
    JSON.stringify([{ ...entry, version: '1', canary: { file: 'foo-2.js', version: '1', weight: 5 } }]),
    [{ code: 'invalid-value', path: [0, 'canary', 'version'] }],
  ],
  [
    'several at once, in document order',
    JSON.stringify({ plugins: [{ id: 'Foo', colour: 'red', threads: -1 }, entry, entry] }),
    [
      { code: 'unknown-key', path: ['plugins', 0] },
      { code: 'invalid-value', path: ['plugins', 0, 'threads'] },
      { code: 'missing-key', path: ['plugins', 0, 'file'] },
      { code: 'missing-key', path: ['plugins', 0, 'name'] },
      { code: 'duplicate-id', path: ['plugins', 1, 'id'] },
      { code: 'duplicate-id', path: ['plugins', 2, 'id'] },
    ],
  ],
];

describe('each kind of problem has its code', () => {
  test.each(CASES)('%s', (_what, text, expected) => {
    expect(issuesOf(text).map(({ code, path }) => ({ code, path }))).toEqual(expected);
  });

  test('an empty file is the one issue, and says so', () => {
    expect(issuesOf('\n\n')).toEqual([{ code: ConfigIssueCode.EMPTY_FILE, path: [], message: 'the file is empty' }]);
  });

  test('a file holding only a comment or a stray character is not empty: it is a syntax problem', () => {
    expect(issuesOf('// nothing yet').map((issue) => issue.code)).toEqual(['json-syntax']);
    expect(issuesOf('\u00a0').map((issue) => issue.code)).toEqual(['json-syntax']);
  });

  test('every code of the table is produced by some case above', () => {
    const produced = new Set(CASES.flatMap(([, , expected]) => expected.map((issue) => issue.code)));
    expect([...produced].sort()).toEqual(Object.values(ConfigIssueCode).sort());
  });
});

describe('how issues read', () => {
  test.each([
    [[], '(root)'],
    [[0, 'file'], '[0].file'],
    [['plugins', 2, 'resourceLimits', 'stackSizeMb'], 'plugins[2].resourceLimits.stackSizeMb'],
    [['plugins', 0, 'env', 'A=B'], 'plugins[0].env["A=B"]'],
    [['plugins', 0, 'env', ''], 'plugins[0].env[""]'],
    [['env', '1x'], 'env["1x"]'],
    [['env', '$HOME_2'], 'env.$HOME_2'],
    [['env', 'a"b'], 'env["a\\"b"]'],
  ] as const)('the path %j reads %s', (path, text) => {
    expect(renderPath(path)).toBe(text);
  });

  test("zod's own path text differs only where it would hide the problem: an empty key", () => {
    // If zod ever renders the empty key visibly, renderPath can become z.core.toDotPath.
    expect(z.core.toDotPath(['plugins', 0, 'env', 'PORT'])).toBe(renderPath(['plugins', 0, 'env', 'PORT']));
    expect(z.core.toDotPath(['plugins', 0, 'env', 'A=B'])).toBe(renderPath(['plugins', 0, 'env', 'A=B']));
    expect(z.core.toDotPath(['plugins', 0, 'env', ''])).toBe('plugins[0].env.');
  });

  test('the message names the file and lists each issue on its own line, at its path and line', () => {
    const text = formatIssues('/cfg/plugin.json', [
      {
        code: 'unknown-key',
        path: [],
        message: 'unknown key "defualts"; did you mean "defaults"?',
        line: 2,
        column: 3,
      },
      {
        code: 'invalid-value',
        path: ['plugins', 1, 'file'],
        message: 'expected string, received number',
        line: 7,
        column: 15,
      },
      { code: 'empty-file', path: [], message: 'the file is empty' },
    ]);
    expect(text).toMatchInlineSnapshot(`
      "config /cfg/plugin.json is invalid:
        line 2, column 3: unknown key "defualts"; did you mean "defaults"?
        plugins[1].file (line 7, column 15): expected string, received number
        (root): the file is empty"
    `);
  });

  test('every issue of a parsed config is placed, an empty file aside', () => {
    const text = '{\n  "defaults": {"env": {"A=B": "x"}},\n  "plugins": [{"id": "a", "colour": 1}]\n}';
    expect(issuesOf(text).map(({ code, path, line, column }) => ({ code, path, line, column }))).toEqual([
      // A bad variable name is placed at the name, an unknown key at the key, a missing key at its object.
      { code: 'invalid-value', path: ['defaults', 'env', 'A=B'], line: 2, column: 24 },
      { code: 'unknown-key', path: ['plugins', 0], line: 3, column: 27 },
      { code: 'missing-key', path: ['plugins', 0, 'file'], line: 3, column: 15 },
      { code: 'missing-key', path: ['plugins', 0, 'name'], line: 3, column: 15 },
    ]);
  });
});
