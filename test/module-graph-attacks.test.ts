/**
 * What a plugin's files, or a hostile plugin, can make of the host's module graph (modules/graph.ts,
 * tsconfig.ts, jsonc.ts, compile.ts): the host reads, parses and compiles them on its own event
 * loop and in its own esbuild service, so none of it may hang, flood or break the host.
 */
import { describe, expect, test } from 'vitest';
import { parseJsonc, stripJsonc } from '../packages/core/src/modules/jsonc.js';

describe('tsconfig text (jsonc.ts)', () => {
  test('strips comments and trailing commas, keeping every position', () => {
    const text = '{ "a": [1, 2, ], // c\n "b": { "c": "x,]" , }, /* d */ }';
    const stripped = stripJsonc(text);
    expect(stripped).toHaveLength(text.length);
    expect(JSON.parse(stripped)).toEqual({ a: [1, 2], b: { c: 'x,]' } });
  });

  test('takes time linear in the text: a tsconfig of trailing commas does not hold the host', () => {
    // 1 MB of `[1,],`: quadratic re-slicing took minutes of the host's event loop for this.
    const text = `{"a":[${'[1,],'.repeat(200_000)}0]}`;
    const started = performance.now();
    const parsed = parseJsonc(text) as { a: unknown[] };
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(parsed.a).toHaveLength(200_001);
    expect(parsed.a[0]).toEqual([1]);
  });
});
