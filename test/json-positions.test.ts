/**
 * json-positions.ts: glean's own reading of JSON text, which places config problems by line and
 * column and words syntax errors the same on every Node version. Pure: no threads, no files.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  findJsonSyntaxError,
  lineIndex,
  locateInJson,
  positionAt,
} from '../packages/core/src/config/json-positions.js';

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('offsets as line and column', () => {
  test.each([
    ['', 0, 1, 1],
    ['abc', 0, 1, 1],
    ['abc', 3, 1, 4],
    ['a\nbc', 1, 1, 2],
    ['a\nbc', 2, 2, 1],
    ['a\nbc', 4, 2, 3],
    ['a\r\nb', 3, 2, 1],
    ['\n\n\n', 3, 4, 1],
  ])('%j at %i is line %i, column %i', (text, offset, line, column) => {
    expect(positionAt(text, offset)).toEqual({ line, column });
  });

  test('one index answers for every offset as a fresh count would', () => {
    const text = '{\n  "a": 1,\r\n\n  "b": [\n    true]\n}';
    const at = lineIndex(text);
    for (let offset = 0; offset <= text.length; offset++) {
      const before = text.slice(0, offset);
      expect(at(offset)).toEqual({ line: before.split('\n').length, column: offset - before.lastIndexOf('\n') });
    }
  });
});

describe('the first syntax error', () => {
  test.each([
    ['plugins: []', 0, "unexpected token 'p'"],
    ['[1,]', 3, "unexpected token ']'"],
    ['[\n  {"id": 1},\n]\n', 15, "unexpected token ']'"],
    ['{"a": 1,}', 8, 'expected a double-quoted property name'],
    ["{'a': 1}", 1, 'expected a double-quoted property name'],
    ['{"a" 1}', 5, "expected ':' after property name"],
    ['{"a": 1 "b": 2}', 8, "expected ',' or '}' after property value"],
    ['[1 2]', 3, "expected ',' or ']' after array element"],
    ['{"a": tru}', 9, "unexpected token '}'"],
    ['[nul]', 4, "unexpected token ']'"],
    ['[1] x', 4, "unexpected token 'x' after the document"],
    ['{}{}', 2, "unexpected token '{' after the document"],
    ['["abc', 5, 'unterminated string'],
    ['["a\\', 4, 'unterminated string'],
    ['["\\u12', 6, 'unterminated string'],
    ['["a\u0001"]', 3, "unescaped control character '\\u0001' in string"],
    ['["a\nb"]', 3, "unescaped control character '\\u000a' in string"],
    ['["\\x"]', 3, "bad escape in string: 'x' cannot follow '\\'"],
    ['["\\u12g4"]', 6, "bad \\u escape in string: 'g' is not a hex digit"],
    ['[01]', 2, 'a number cannot have a leading zero'],
    ['[-]', 2, 'no number after minus sign'],
    ['[-a]', 2, 'no number after minus sign'],
    ['[1.]', 3, 'no digit after the decimal point'],
    ['[1e]', 3, 'no digit in the exponent'],
    ['[1e+]', 4, 'no digit in the exponent'],
    ['[+1]', 1, "unexpected token '+'"],
    ['[.5]', 1, "unexpected token '.'"],
    ['[\u00a0]', 1, "unexpected token '\\u00a0'"],
    ['\uFEFF[]', 0, "unexpected token '\\ufeff'"],
    ['[1,\n\n', 3, 'unexpected end of JSON input'],
    ['{"a":', 5, 'unexpected end of JSON input'],
    ['{"a"  ', 4, 'unexpected end of JSON input'],
    ['[tr', 3, 'unexpected end of JSON input'],
    [' ', 0, 'unexpected end of JSON input'],
  ])('%j: at %i, %s', (text, offset, problem) => {
    expect(parses(text)).toBe(false);
    expect(findJsonSyntaxError(text)).toEqual({ offset, problem });
  });

  test.each([
    '[]',
    ' {} ',
    '0',
    '-0.5e+10',
    '"\\u00e9\\n\\"\\\\\\/"',
    '{"a": [true, false, null, 1E3, {"": {}}]}',
    '"\ud800"',
    '\t\r\n[\n]\n',
  ])('%j is JSON', (text) => {
    expect(parses(text)).toBe(true);
    expect(findJsonSyntaxError(text)).toBeUndefined();
  });

  test('nesting as deep as JSON.parse takes does not overflow the stack', () => {
    const depth = 200_000;
    expect(findJsonSyntaxError(`${'['.repeat(depth)}${']'.repeat(depth)}`)).toBeUndefined();
    expect(findJsonSyntaxError(`${'{"a":['.repeat(depth)}`)).toEqual({
      offset: depth * 6,
      problem: 'unexpected end of JSON input',
    });
  });

  // The alphabet JSON's grammar turns on, and a few characters it refuses.
  const CHARS = [...'{}[]",:\\/0123456789-+.eEtrufalsn \n\t\rx\'', '\u0001', '\u00a0', '\u2028', '\uFEFF'];
  const edited = fc
    .tuple(
      fc.json(),
      fc.array(fc.tuple(fc.constantFrom('insert', 'delete', 'replace'), fc.nat(), fc.constantFrom(...CHARS)), {
        maxLength: 3,
      }),
    )
    .map(([text, edits]) => {
      let out = text;
      for (const [kind, at, char] of edits) {
        const i = out.length === 0 ? 0 : at % (out.length + (kind === 'insert' ? 1 : 0));
        if (kind === 'insert') out = out.slice(0, i) + char + out.slice(i);
        else if (kind === 'delete') out = out.slice(0, i) + out.slice(i + 1);
        else out = out.slice(0, i) + char + out.slice(i + 1);
      }
      return out;
    });

  test('agrees with JSON.parse on what is JSON: valid documents, and documents with a few characters changed', () => {
    fc.assert(
      fc.property(edited, (text) => {
        const error = findJsonSyntaxError(text);
        expect(error === undefined).toBe(parses(text));
        if (error !== undefined) expect(error.offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 3000 },
    );
  });

  test('agrees with JSON.parse on short strings of the characters JSON is made of', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }), (chars) => {
        const text = chars.join('');
        expect(findJsonSyntaxError(text) === undefined).toBe(parses(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('where the values at paths are', () => {
  const text = '{\n  "plugins": [\n    {"id": "a", "file": 1},\n    {"id": "b", "env": {"A=B": "x", "": 2}}\n  ]\n}';
  const place = (offset: number) => positionAt(text, offset);

  test('a value, and the key naming it', () => {
    const at = locateInJson(text, [['plugins', 0, 'file']]);
    expect(place(at.offsetOf(['plugins', 0, 'file']))).toEqual({ line: 3, column: 25 });
    expect(place(at.offsetOf(['plugins', 0, 'file'], { key: true }))).toEqual({ line: 3, column: 17 });
    expect(place(at.offsetOf(['plugins', 0]))).toEqual({ line: 3, column: 5 });
    expect(place(at.offsetOf([]))).toEqual({ line: 1, column: 1 });
  });

  test('keys that are not identifiers, and an element as a whole', () => {
    const at = locateInJson(text, [
      ['plugins', 1, 'env', 'A=B'],
      ['plugins', 1, 'env', ''],
    ]);
    expect(place(at.offsetOf(['plugins', 1, 'env', 'A=B'], { key: true }))).toEqual({ line: 4, column: 25 });
    expect(place(at.offsetOf(['plugins', 1, 'env', '']))).toEqual({ line: 4, column: 41 });
    expect(place(at.offsetOf(['plugins', 1]))).toEqual({ line: 4, column: 5 });
  });

  test('a path the document lacks is placed at the nearest enclosing value', () => {
    const at = locateInJson(text, [
      ['plugins', 0, 'name'],
      ['plugins', 7],
      ['defaults', 'threads'],
    ]);
    expect(place(at.offsetOf(['plugins', 0, 'name']))).toEqual({ line: 3, column: 5 });
    expect(place(at.offsetOf(['plugins', 7]))).toEqual({ line: 2, column: 14 });
    expect(place(at.offsetOf(['defaults', 'threads']))).toEqual({ line: 1, column: 1 });
  });

  test('a key written twice is found at its last value, the one JSON.parse keeps', () => {
    const twice = '{"threads": 1, "threads": 2}';
    expect(JSON.parse(twice)).toEqual({ threads: 2 });
    expect(locateInJson(twice, [['threads']]).offsetOf(['threads'])).toBe(twice.lastIndexOf('2'));
  });

  test('keys are compared as JSON.parse reads them, escapes decoded', () => {
    const escaped = '{"\\u0041": {"b\\"c": true}}';
    expect(locateInJson(escaped, [['A', 'b"c']]).offsetOf(['A', 'b"c'])).toBe(escaped.indexOf('true'));
  });

  test('only the places on the way to a path asked for are recorded, so other paths fall back', () => {
    const at = locateInJson(text, [['plugins', 0, 'id']]);
    expect(place(at.offsetOf(['plugins', 1, 'id']))).toEqual({ line: 2, column: 14 });
  });

  test('a deep path in a deep document', () => {
    const depth = 100_000;
    const deep = `${'['.repeat(depth)}7${']'.repeat(depth)}`;
    const path = Array.from({ length: depth }, () => 0);
    expect(locateInJson(deep, [path]).offsetOf(path)).toBe(depth);
  });

  test('refuses text that is not JSON', () => {
    expect(() => locateInJson('[1,]', [[0]])).toThrow(
      "locateInJson needs valid JSON; at offset 3: unexpected token ']'",
    );
  });
});
