/**
 * What a plugin's files, or a hostile plugin, can make of the host's module graph (modules/graph.ts,
 * tsconfig.ts, jsonc.ts, compile.ts): the host reads, parses and compiles them on its own event
 * loop and in its own esbuild service, so none of it may hang, flood or break the host.
 */
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it, test } from 'vitest';
import { startGlean } from './helpers/glean.js';
import { onCleanup, tempDir } from './helpers/index.js';
import { parseJsonc, stripJsonc } from '../packages/core/src/modules/jsonc.js';
import { loadTypeScriptSettings } from '../packages/core/src/modules/tsconfig.js';

describe('tsconfig text (jsonc.ts)', () => {
  test('strips comments and trailing commas, keeping every position', () => {
    const text = '{ "a": [1, 2, ], // c\n "b": { "c": "x,]" , }, /* d */ }';
    const stripped = stripJsonc(text);
    expect(stripped).toHaveLength(text.length);
    expect(JSON.parse(stripped)).toEqual({ a: [1, 2], b: { c: 'x,]' } });
  });

  test('takes time linear in the text: a tsconfig of trailing commas does not hold the host', () => {
    // 1 MB of `[1,],`: quadratic re-slicing took 75 s of the host's event loop for this, past the test's timeout.
    const text = `{"a":[${'[1,],'.repeat(200_000)}0]}`;
    const parsed = parseJsonc(text) as { a: unknown[] };
    expect(parsed.a).toHaveLength(200_001);
    expect(parsed.a[0]).toEqual([1]);
  });
});

/** A TypeScript plugin whose export says which decorators its compile used: legacy (`experimentalDecorators`) or standard. */
const DECORATED = `let kind = 'none';
function mark(_target: unknown, context?: unknown): void { kind = context === undefined ? 'legacy' : 'standard'; }
@mark class Marked {}
export const Kind = (): string => (Marked, kind);
`;

describe('tsconfig "extends" a package', () => {
  test.each([
    [
      'a file of the package',
      'cfg/base.json',
      { 'node_modules/cfg/base.json': '{"compilerOptions":{"experimentalDecorators":true}}' },
    ],
    [
      'its "exports"',
      '@scope/cfg',
      {
        'node_modules/@scope/cfg/package.json': '{"exports":{".":{"types":"./x/tsconfig.json"}}}',
        'node_modules/@scope/cfg/x/tsconfig.json': '{"compilerOptions":{"experimentalDecorators":true}}',
      },
    ],
    [
      'its "tsconfig" field',
      'cfg',
      {
        'node_modules/cfg/package.json': '{"tsconfig":"./base.json"}',
        'node_modules/cfg/base.json': '{"compilerOptions":{"experimentalDecorators":true}}',
      },
    ],
    [
      'its tsconfig.json',
      'cfg',
      { 'node_modules/cfg/tsconfig.json': '{"compilerOptions":{"experimentalDecorators":true}}' },
    ],
  ])('finds %s', async (_what, base, files) => {
    const { glean } = await startGlean({
      files: { 'kind.ts': DECORATED, 'tsconfig.json': JSON.stringify({ extends: base }), ...files },
      config: [{ id: 'K', file: 'kind.ts', name: 'Kind' }],
    });
    const kind = await glean.reload<() => Promise<string>>('K');
    expect(await kind()).toBe('legacy');
  });

  it('refuses a package.json that is a FIFO at once, without holding the host on it', async () => {
    const temp = await tempDir();
    await temp.write('node_modules/evil/base.json', '{}');
    const manifest = temp.path('node_modules/evil/package.json');
    execFileSync('mkfifo', [manifest]);
    // A writer comes after 4 s: without the fix, the host's thread sat in a synchronous open() of the FIFO until then.
    const writer = spawn('sh', ['-c', `sleep 4; printf '{}' > '${manifest}'`], { stdio: 'ignore' });
    onCleanup(() => writer.kill('SIGKILL'));
    let blocked = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      blocked = Math.max(blocked, now - last);
      last = now;
    }, 50);
    onCleanup(() => clearInterval(ticker));
    const { glean } = await startGlean({
      temp,
      files: { 'kind.ts': DECORATED, 'tsconfig.json': '{ "extends": "evil/base" }' },
      config: [{ id: 'K', file: 'kind.ts', name: 'Kind' }],
      load: false,
    });
    await expect(glean.loadConfig()).rejects.toMatchObject({
      code: 'GLEAN_LOAD_FAILED',
      message: expect.stringContaining('a FIFO, not a regular file'),
    });
    expect(blocked).toBeLessThan(1_000);
  });
});

describe('the compiler (compile.ts)', () => {
  it('keeps compiling for every glean after one module crashes esbuild', async () => {
    // Nesting this deep overflows esbuild's parser stack, which ends its service process (a Go fatal error).
    const nested = `export const Deep = (): number => ${'('.repeat(5_000_000)}1${')'.repeat(5_000_000)};\n`;
    const first = await startGlean({
      files: { 'deep.ts': nested },
      config: [{ id: 'D', file: 'deep.ts', name: 'Deep' }],
      load: false,
    });
    await expect(first.glean.loadConfig()).rejects.toMatchObject({ code: 'GLEAN_LOAD_FAILED' });
    // Another glean's plugin, and TypeScript never compiled in this process before (no cache hit).
    const tag = `fresh-${process.hrtime.bigint()}`;
    const { glean } = await startGlean({
      files: { 'fresh.ts': `export const Tag = (): string => '${tag}';\n` },
      config: [{ id: 'F', file: 'fresh.ts', name: 'Tag' }],
    });
    const fresh = await glean.reload<() => Promise<string>>('F');
    expect(await fresh()).toBe(tag);
  });

  it('lives through TypeScript nested past a native parser stack: a 100 000-term sum and 3 000 nested ifs compile and run', async () => {
    // @swc/core 1.16 ends the whole process (SIGSEGV) from about 61 000 terms and 2 100 nested ifs
    // (docs/benchmarks.md, run AG): a compiler in the host's process must not fall over on these.
    const sum = `export const Sum = (): number => ${Array.from({ length: 100_000 }, () => '1').join(' + ')};\n`;
    const ifs = `let a = 1;\nexport const Deep = (): number => {\n${'if (a) {\n'.repeat(3_000)}a = 2;\n${'}\n'.repeat(3_000)}return a;\n};\n`;
    const { glean } = await startGlean({
      files: { 'sum.ts': sum, 'ifs.ts': ifs },
      config: [
        { id: 'S', file: 'sum.ts', name: 'Sum' },
        { id: 'I', file: 'ifs.ts', name: 'Deep' },
      ],
    });
    const deep = await glean.reload<() => Promise<number>>('I');
    expect(await deep()).toBe(2);
    const total = await glean.reload<() => Promise<number>>('S');
    expect(await total()).toBe(100_000);
  });
});

describe('what a version makes the host remember (graph.ts)', () => {
  it('bounds the lookups a plugin asks for: ever new specifiers are refused once its budget is spent', async () => {
    const { glean } = await startGlean({
      files: {
        'ask.mjs': `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const long = 'x'.repeat(4000);
let asked = 0;
export function Ask(count) {
  const seen = { missing: 0, refused: 0 };
  for (let i = 0; i < count; i++, asked++) {
    try { require(long + asked); } catch (error) { seen[String(error.message).includes('than a plugin may') ? 'refused' : 'missing']++; }
  }
  return seen;
}
`,
      },
      config: [{ id: 'Ask', file: 'ask.mjs', name: 'Ask' }],
    });
    const ask = await glean.reload<(count: number) => Promise<{ missing: number; refused: number }>>('Ask');
    // 4 kB specifiers: each new one costs the host a 4 kB key for the version's life. 32 Mi of them is about 8,000.
    const seen = await ask(10_000);
    expect(seen.missing).toBeGreaterThan(7_000);
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.missing + seen.refused).toBe(10_000);
  });
});

describe('tsconfig "extends" chains (tsconfig.ts)', () => {
  const reader = (files: Record<string, string>) => {
    const reads: string[] = [];
    const read = async (file: string): Promise<string | undefined> => {
      reads.push(file);
      return files[file];
    };
    return { read, reads };
  };

  test('two bases extending one more (a diamond) is no circle, and that one is read once', async () => {
    const { read, reads } = reader({
      '/a.json': '{"extends":["./b.json","./c.json"],"compilerOptions":{"target":"es2022"}}',
      '/b.json': '{"extends":"./d.json"}',
      '/c.json': '{"extends":"./d.json"}',
      '/d.json': '{"compilerOptions":{"jsx":"react"}}',
    });
    const settings = await loadTypeScriptSettings('/a.json', read);
    expect(settings.compilerOptions).toEqual({ jsx: 'react', target: 'es2022' });
    expect(settings.files).toEqual(['/a.json', '/b.json', '/d.json', '/c.json']);
    expect(reads.filter((file) => file === '/d.json')).toHaveLength(1);
  });

  test('a circle is refused', async () => {
    const { read } = reader({ '/a.json': '{"extends":"./b.json"}', '/b.json': '{"extends":"./a.json"}' });
    await expect(loadTypeScriptSettings('/a.json', read)).rejects.toThrow('in a circle');
  });

  test('a wide tree costs its files, not its paths: 16 levels of two bases each', async () => {
    const files: Record<string, string> = { '/16.json': '{}' };
    for (let level = 0; level < 16; level++)
      files[`/${level}.json`] = JSON.stringify({ extends: [`./${level + 1}.json`, `./${level + 1}.json`] });
    const { read, reads } = reader(files);
    await loadTypeScriptSettings('/0.json', read);
    expect(reads.length).toBeLessThan(100);
  });
});
