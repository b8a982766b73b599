/**
 * What differs between the supported Node versions (20.19+, 22, 24) where glean's behaviour is at
 * stake: require() of ES modules from CommonJS plugins, who compiles TypeScript (glean's host, not
 * Node's own type stripping), values Node 22+ refuses to clone, and a host's stderr free of warnings. Each test
 * asserts what holds on all three; a test branches on the Node version only where Node documents a
 * different behaviour, and then says which.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Glean } from '@glean/core';
import { hashForIntegrity } from '../packages/core/src/integrity.js';
import { rejectionOf } from './helpers/errors.js';
import { gleanOver } from './helpers/glean.js';
import { tempDir } from './helpers/index.js';

async function start(configPath: string): Promise<Glean> {
  const glean = gleanOver(configPath, { prewarm: false });
  await glean.loadConfig();
  return glean;
}

describe('CommonJS plugins require() ES modules (on by default in 20.19+, 22.12+, 24)', () => {
  it('a CommonJS plugin folder (index.js under "type": "commonjs") requires a local .mjs and an ES package', async () => {
    const temp = await tempDir();
    await temp.write('app/package.json', { type: 'commonjs' });
    await temp.write('app/local.mjs', 'export const local = 1;\n');
    await temp.write('app/tla.mjs', 'await Promise.resolve();\nexport const late = 2;\n');
    await temp.write('app/node_modules/esm-only/package.json', {
      name: 'esm-only',
      type: 'module',
      exports: './index.js',
    });
    await temp.write('app/node_modules/esm-only/index.js', "export const name = 'esm-only';\n");
    await temp.write(
      'app/index.js',
      [
        "const { local } = require('./local.mjs');",
        "const { name } = require('esm-only');",
        "exports.info = () => [name, local, typeof module.exports].join(':');",
        "exports.late = () => require('./tla.mjs').late;",
      ].join('\n'),
    );
    const glean = await start(
      await temp.write('app/plugin.json', [
        { id: 'info', file: 'index.js', name: 'info' },
        { id: 'late', file: 'index.js', name: 'late' },
      ]),
    );
    expect(await (await glean.reloadAndWatch<() => string>('info'))()).toBe('esm-only:1:object');
    // An ES module with top-level await cannot be required on any of them: the plugin's own error, with Node's code.
    const late = await glean.reloadAndWatch<() => number>('late');
    expect(await rejectionOf(late(), Error)).toMatchObject({ code: 'ERR_REQUIRE_ASYNC_MODULE' });
  });
});

describe("TypeScript plugins are compiled by glean's host, not stripped by Node (which strips .ts itself on 22.18+ and 24)", () => {
  it('loads what type stripping refuses: enums, namespaces, parameter properties, extensionless and .js specifiers, import = require', async () => {
    const temp = await tempDir();
    await temp.write('app/package.json', { type: 'module' });
    await temp.write('app/scale.ts', 'export const scale = (x: number): number => x * 2;\n');
    await temp.write('app/offset.ts', 'export const offset = (x: number): number => x + 1;\n');
    await temp.write(
      'app/measure.ts',
      [
        "import { scale } from './scale';",
        "import { offset } from './offset.js';",
        'enum Level { Low = 1, High = 10 }',
        "namespace Units { export const unit = 'px'; }",
        'class Meter { constructor(private readonly factor: number) {} read(x: number): number { return x * this.factor; } }',
        'export const measure = (x: number): string => offset(scale(new Meter(Level.High).read(x))) + Units.unit;',
      ].join('\n'),
    );
    await temp.write(
      'app/legacy.cts',
      "import path = require('node:path');\nexport = { base: (file: string): string => path.basename(file) };\n",
    );
    const glean = await start(
      await temp.write('app/plugin.json', [
        { id: 'measure', file: 'measure.ts', name: 'measure' },
        { id: 'base', file: 'legacy.cts', name: 'base' },
      ]),
    );
    expect(await (await glean.reloadAndWatch<(x: number) => string>('measure'))(3)).toBe('61px');
    expect(await (await glean.reloadAndWatch<(file: string) => string>('base'))('/a/b.txt')).toBe('b.txt');
  });

  it("compiles a JavaScript plugin's .ts imports as its own, enums included, on every Node", async () => {
    const temp = await tempDir();
    await temp.write('app/package.json', { type: 'module' });
    await temp.write('app/half.ts', 'export const half = (x: number): number => x / 2;\n');
    await temp.write('app/level.ts', 'export enum Level { High = 10 }\n');
    await temp.write(
      'app/plugin.mjs',
      "import { half } from './half.ts';\nimport { Level } from './level.ts';\nexport const run = (x) => half(x) + Level.High;\n",
    );
    const glean = await start(await temp.write('app/plugin.json', [{ id: 'run', file: 'plugin.mjs', name: 'run' }]));
    // Node 22.18+ and 24 would strip half.ts and refuse the enum (ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX); Node 20 would refuse both.
    expect(await (await glean.reloadAndWatch<(x: number) => number>('run'))(8)).toBe(14);
    expect(glean.status()['run']).toMatchObject({ modules: 3 });
  });
});

describe('values Node 22+ refuses to clone and Node 20 copies as empty objects (URL, URLSearchParams): the same on every Node', () => {
  const PLUGIN = [
    "export const nested = () => ({ ok: 1, where: new URL('https://example.org/') });",
    "export const params = () => new URLSearchParams('a=1');",
    'export const echo = (value) => value;',
    "export const Settings = { home: new URL('https://example.org/') };",
    "export const alive = () => 'alive';",
  ].join('\n');

  it('a result or an argument arrives as the URL it was, for that call alone', async () => {
    const temp = await tempDir();
    await temp.write('app/plugin.mjs', PLUGIN);
    const glean = await start(
      await temp.write(
        'app/plugin.json',
        ['nested', 'params', 'echo', 'alive'].map((name) => ({ id: name, file: 'plugin.mjs', name })),
      ),
    );
    const nested = await glean.reloadAndWatch<() => { ok: number; where: URL }>('nested');
    const params = await glean.reloadAndWatch<() => URLSearchParams>('params');
    const echo = await glean.reloadAndWatch<(value: unknown) => unknown>('echo');
    const alive = await glean.reloadAndWatch<() => string>('alive');
    const result = await nested();
    expect(result.where).toBeInstanceOf(URL);
    expect(result).toEqual({ ok: 1, where: new URL('https://example.org/') });
    expect(String(await params())).toBe('a=1');
    const [back] = (await echo([new URL('https://example.org/x')])) as [URL];
    expect(back).toBeInstanceOf(URL);
    expect(back.href).toBe('https://example.org/x');
    // Same worker, still serving: no crash, no restart.
    expect(await alive()).toBe('alive');
    expect(glean.status()['nested']).toMatchObject({ restarts: 0 });
  });

  it('a value export holding a URL: its snapshot holds the URL', async () => {
    const temp = await tempDir();
    await temp.write('app/plugin.mjs', PLUGIN);
    const configPath = await temp.write('app/plugin.json', [{ id: 'S', file: 'plugin.mjs', name: 'Settings' }]);
    const glean = await start(configPath);
    const { home } = (await glean.reloadAndWatch<{ home: URL }>('S')).value;
    expect(home).toBeInstanceOf(URL);
    expect(home.href).toBe('https://example.org/');
  });
});

const CORE = pathToFileURL(fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url))).href;

describe("a host's stderr on this Node", () => {
  it('stays empty (no deprecation or experimental warning) with JavaScript and TypeScript plugins, pinned and not, watched', async () => {
    const temp = await tempDir();
    const pinnedJs = "export const js = () => 'js';\n";
    const pinnedTs = "export const ts = (): string => 'mts';\n";
    await temp.write('app/js.mjs', pinnedJs);
    await temp.write('app/ts.mts', pinnedTs);
    await temp.write('app/legacy.cjs', "exports.cjs = () => 'cjs';\n");
    await temp.write('app/typed.ts', "enum Kind { Typed = 'typed' }\nexport const typed = (): string => Kind.Typed;\n");
    await temp.write('app/plugin.json', [
      { id: 'js', file: 'js.mjs', name: 'js', integrity: hashForIntegrity(Buffer.from(pinnedJs)) },
      { id: 'ts', file: 'ts.mts', name: 'ts', integrity: hashForIntegrity(Buffer.from(pinnedTs)) },
      { id: 'cjs', file: 'legacy.cjs', name: 'cjs' },
      { id: 'typed', file: 'typed.ts', name: 'typed' },
    ]);
    const host = await temp.write(
      'host.mjs',
      [
        `import { Glean } from ${JSON.stringify(CORE)};`,
        `const glean = new Glean('app/plugin.json');`,
        `await glean.loadConfig();`,
        `const out = [];`,
        `for (const id of ['js', 'ts', 'cjs', 'typed']) out.push(await (await glean.reloadAndWatch(id))());`,
        `console.log(out.join(' '));`,
        `await glean.close();`,
      ].join('\n'),
    );
    // --trace-deprecation: should a warning appear, stderr says where it came from.
    const outcome = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--trace-deprecation', host],
        { cwd: temp.dir, encoding: 'utf8', timeout: 20_000 },
        (error, stdout, stderr) => resolve({ error, stdout, stderr }),
      );
    });
    expect(outcome.stderr).toBe('');
    expect(outcome.error).toBeNull();
    expect(outcome.stdout).toBe('js mts cjs typed\n');
  });
});
