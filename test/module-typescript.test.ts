/**
 * TypeScript plugins as their authors write them: the host compiles every plugin-owned module with
 * the nearest tsconfig.json (its `extends` followed, `paths` resolved), and a plugin mixes ES modules,
 * CommonJS and its own packages in node_modules the way Node and TypeScript let it.
 */
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Glean, ReloadEvent } from '@glean/core';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';
import { nextEvent, tempDir, type TempDir } from './helpers/index.js';

/** A legacy method decorator (experimentalDecorators) that wraps the descriptor: the method's result doubled. */
const DECORATED = `
import { scale } from '@lib/scale';

function doubled(_target: object, _key: string, descriptor: PropertyDescriptor): PropertyDescriptor {
  const original = descriptor.value as (...args: number[]) => number;
  descriptor.value = function (this: unknown, ...args: number[]): number {
    return original.apply(this, args) * 2;
  };
  return descriptor;
}

class Calc {
  @doubled
  add(a: number, b: number): number {
    return scale(a + b);
  }
}

export const add = (a: number, b: number): number => new Calc().add(a, b);
`;

/** Writes plugins/calc/index.ts (decorated, importing `@lib/scale`) and plugins/calc/src/lib/scale.ts. */
async function writeCalc(temp: TempDir): Promise<void> {
  await temp.write('plugins/calc/package.json', { type: 'module' });
  await temp.write('plugins/calc/index.ts', DECORATED);
  await temp.write('plugins/calc/src/lib/scale.ts', 'export const scale = (x: number): number => x * 10;\n');
}

describe('tsconfig.json of the plugin folder', () => {
  it('compiles with its experimentalDecorators (a legacy method decorator wraps the descriptor) and resolves its paths (@lib/*)', async () => {
    const temp = await tempDir();
    await writeCalc(temp);
    await temp.write('plugins/calc/tsconfig.json', {
      compilerOptions: { experimentalDecorators: true, baseUrl: '.', paths: { '@lib/*': ['src/lib/*'] } },
    });
    const { glean } = await startGlean({ temp, config: [{ id: 'add', file: 'plugins/calc/index.ts', name: 'add' }] });
    const add = await glean.reloadAndWatch<(a: number, b: number) => number>('add');
    expect(await add(1, 2)).toBe(60);
    expect(glean.status()['add']!.modules).toBe(2);
  });

  it('follows extends to a base file in a parent folder: decorators and paths (relative to the base) from there', async () => {
    const temp = await tempDir();
    await writeCalc(temp);
    await temp.write('tsconfig.base.json', {
      compilerOptions: { experimentalDecorators: true, paths: { '@lib/*': ['./plugins/calc/src/lib/*'] } },
    });
    // Comments and a trailing comma, as tsconfig files have them.
    await temp.write(
      'plugins/calc/tsconfig.json',
      '{\n  // the shared settings\n  "extends": "../../tsconfig.base.json",\n  "compilerOptions": { "strict": true, },\n}\n',
    );
    const { glean } = await startGlean({ temp, config: [{ id: 'add', file: 'plugins/calc/index.ts', name: 'add' }] });
    const add = await glean.reloadAndWatch<(a: number, b: number) => number>('add');
    expect(await add(1, 2)).toBe(60);

    // The base is part of the version's identity: its paths now lead elsewhere, and the version follows.
    await temp.write('plugins/calc/src/lib2/scale.ts', 'export const scale = (x: number): number => x * 100;\n');
    await temp.write('tsconfig.base.json', {
      compilerOptions: { experimentalDecorators: true, paths: { '@lib/*': ['./plugins/calc/src/lib2/*'] } },
    });
    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    await glean.reloadConfig();
    expect((await reloaded).changed).toEqual([temp.path('tsconfig.base.json')]);
    expect(await add(1, 2)).toBe(600);
  });
});

describe('a module and its tsconfig changed together', () => {
  it('the new version is compiled with the new settings, not with those the running version had', async () => {
    const temp = await tempDir();
    // Which decorators ran: legacy ones get (target, key, descriptor), standard ones (value, context).
    const plugin = (release: string): string =>
      [
        'let kind = "none";',
        'function which(...args: unknown[]): void {',
        '  kind = args.length === 3 ? "legacy" : "standard";',
        '}',
        'class Probe {',
        '  @which',
        '  method(): void {}',
        '}',
        'new Probe();',
        `export const compiled = (): string => kind + "-${release}";`,
      ].join('\n');
    await temp.write('package.json', { type: 'module' });
    await temp.write('tsconfig.json', { compilerOptions: { experimentalDecorators: true } });
    await temp.write('probe.ts', plugin('v1'));
    const { glean } = await startGlean({ temp, config: [{ id: 'compiled', file: 'probe.ts', name: 'compiled' }] });
    const compiled = await glean.reloadAndWatch<() => string>('compiled');
    expect(await compiled()).toBe('legacy-v1');

    // The generation's check compiles the changed module ahead, with what it knew: the old tsconfig.
    await temp.write('tsconfig.json', { compilerOptions: { experimentalDecorators: false } });
    await temp.write('probe.ts', plugin('v2'));
    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    await glean.reloadConfig();
    expect((await reloaded).changed).toEqual([temp.path('probe.ts'), temp.path('tsconfig.json')].sort());
    expect(await compiled()).toBe('standard-v2');
  });
});

describe('packages in the plugin folder node_modules, from TypeScript', () => {
  it.each([
    ['under "type": "module"', { type: 'module' }],
    ['with no package.json type', {}],
  ])(
    "named imports of a CommonJS package, %s: import { chunk } from 'cjs-pkg' (exports.chunk = …, as lodash's are)",
    async (_, packageJson) => {
      const temp = await tempDir();
      await temp.write('package.json', packageJson);
      await temp.write('node_modules/cjs-pkg/package.json', { name: 'cjs-pkg', version: '1.0.0', main: 'index.js' });
      await temp.write(
        'node_modules/cjs-pkg/index.js',
        [
          "'use strict';",
          'exports.chunk = (list, size) => {',
          '  const out = [];',
          '  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));',
          '  return out;',
          '};',
          // What TypeScript and esbuild emit for a compiled package's exports.
          'const impl = { sum: (list) => list.reduce((a, b) => a + b, 0) };',
          "Object.defineProperty(exports, 'sum', { enumerable: true, get: function () { return impl.sum; } });",
        ].join('\n'),
      );
      await temp.write(
        'index.ts',
        [
          "import { chunk, sum } from 'cjs-pkg';",
          "import pkg from 'cjs-pkg';",
          'export const split = (list: number[]): number[][] => chunk(list, 2);',
          'export const total = (list: number[]): number => sum(list) + (pkg.chunk === chunk ? 0 : 1000);',
        ].join('\n'),
      );
      await temp.write('cjs-pkg.d.ts', "declare module 'cjs-pkg';\n");
      const { glean } = await startGlean({
        temp,
        config: [
          { id: 'split', file: 'index.ts', name: 'split' },
          { id: 'total', file: 'index.ts', name: 'total' },
        ],
      });
      expect(await (await glean.reloadAndWatch<(list: number[]) => number[][]>('split'))([1, 2, 3, 4, 5])).toEqual([
        [1, 2],
        [3, 4],
        [5],
      ]);
      expect(await (await glean.reloadAndWatch<(list: number[]) => number>('total'))([1, 2, 3])).toBe(6);
      // The package loads as Node loads it: the plugin owns index.ts alone.
      expect(glean.status()['split']!.modules).toBe(1);
    },
  );

  it('require() of ES modules from a .cts: an ESM-only package ("type": "module", exports) and a plugin-owned .mts', async () => {
    const temp = await tempDir();
    await temp.write('node_modules/esm-only/package.json', {
      name: 'esm-only',
      type: 'module',
      exports: { '.': { import: './index.js', default: './index.js' } },
    });
    await temp.write('node_modules/esm-only/index.js', "export const name = 'esm-only';\nexport default 'default';\n");
    await temp.write('local.mts', "export const local = (x: number): string => 'mts:' + x;\n");
    await temp.write(
      'index.cts',
      [
        "const pkg = require('esm-only') as { name: string; default: string };",
        "const { local } = require('./local.mts') as { local: (x: number) => string };",
        'export function info(x: number): string {',
        "  return [pkg.name, pkg.default, local(x), typeof module.exports].join(' ');",
        '}',
      ].join('\n'),
    );
    const { glean } = await startGlean({ temp, config: [{ id: 'info', file: 'index.cts', name: 'info' }] });
    expect(await (await glean.reloadAndWatch<(x: number) => string>('info'))(7)).toBe('esm-only default mts:7 object');
    expect(glean.status()['info']!.modules).toBe(2);
  });
});

describe('what a module knows about itself', () => {
  /** Line of `throw` in index.ts below, counted from 1. */
  const THROW_LINE = 24;
  const INDEX = [
    "import { data, here } from './sub/reader.js';",
    "import { extensionless } from './sub/extensionless';",
    "import settings from './sub/settings.json' with { type: 'json' };",
    "import typed from './sub/where.cjs';",
    "import legacy from './sub/legacy.cjs';",
    '',
    'const ready: number = await Promise.resolve(settings.answer);',
    '',
    'export const facts = () => ({',
    '  url: import.meta.url,',
    '  dirname: import.meta.dirname,',
    '  filename: import.meta.filename,',
    '  reader: here(),',
    '  data: data(),',
    '  ready,',
    '  extensionless,',
    '  typed: typed.where(),',
    '  legacy: legacy.where(),',
    '});',
    '',
    'interface Failure { reason: string }',
    '',
    'export function fail(failure: Failure): never {',
    '  throw new Error(failure.reason);',
    '}',
  ];

  /** An index.ts plugin ("type": "module") over TypeScript, CommonJS, JSON and a data file in sub/; `facts()` says what each saw. */
  async function start(): Promise<{ temp: TempDir; facts: Record<string, unknown>; glean: Glean }> {
    const temp = await tempDir();
    await temp.write('package.json', { type: 'module' });
    await temp.write('sub/data.txt', 'beside the reader');
    await temp.write(
      'sub/reader.ts',
      [
        "import { readFileSync } from 'node:fs';",
        "export const data = (): string => readFileSync(new URL('./data.txt', import.meta.url), 'utf8');",
        'export const here = (): string[] => [import.meta.url, import.meta.dirname, import.meta.filename];',
      ].join('\n'),
    );
    await temp.write('sub/extensionless.ts', "export const extensionless = 'extensionless';\n");
    await temp.write('sub/settings.json', { answer: 42 });
    await temp.write('sub/where.cts', 'export const where = (): string[] => [__dirname, __filename];\n');
    await temp.write('sub/legacy.cjs', 'exports.where = () => [__dirname, __filename];\n');
    await temp.write('index.ts', INDEX.join('\n'));
    const { glean } = await startGlean({
      temp,
      config: [
        { id: 'facts', file: 'index.ts', name: 'facts' },
        { id: 'fail', file: 'index.ts', name: 'fail' },
      ],
    });
    const facts = await (await glean.reloadAndWatch<() => Record<string, unknown>>('facts'))();
    return { temp, facts, glean };
  }

  it('import.meta.url, dirname and filename name the .ts file; __dirname and __filename name the CommonJS one (.cts, .cjs)', async () => {
    const { temp, facts } = await start();
    expect(facts).toMatchObject({
      url: pathToFileURL(temp.path('index.ts')).href,
      dirname: temp.dir,
      filename: temp.path('index.ts'),
      reader: [pathToFileURL(temp.path('sub/reader.ts')).href, temp.path('sub'), temp.path('sub/reader.ts')],
      typed: [temp.path('sub'), temp.path('sub/where.cts')],
      legacy: [temp.path('sub'), temp.path('sub/legacy.cjs')],
    });
  });

  it("a module in a sub-folder reads its data file with new URL('./data.txt', import.meta.url)", async () => {
    const { facts } = await start();
    expect(facts['data']).toBe('beside the reader');
  });

  it("loads .ts imported as .js, extensionless, a JSON import with { type: 'json' }, and top-level await", async () => {
    const { glean, facts } = await start();
    expect(facts).toMatchObject({ ready: 42, extensionless: 'extensionless' });
    // index.ts, reader.ts, extensionless.ts, settings.json, where.cts, legacy.cjs: all plugin-owned.
    expect(glean.status()['facts']!.modules).toBe(6);
  });

  it('a stack points at the line of index.ts that threw', async () => {
    expect(INDEX[THROW_LINE - 1]).toContain('throw');
    const { temp, glean } = await start();
    const fail = await glean.reloadAndWatch<(failure: { reason: string }) => never>('fail');
    const error = await rejectionOf(fail({ reason: 'on purpose' }), Error);
    expect(error.message).toBe('on purpose');
    expect(error.stack).toContain(`${temp.path('index.ts')}:${THROW_LINE}:`);
  });
});
