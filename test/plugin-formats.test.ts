/**
 * Which plugin file formats load, and as what: .mjs, .js (by the nearest package.json), .cjs, a
 * default export, and TypeScript (.ts, .mts, .cts) with stacks that name the .ts file. Plain JS
 * plugins are written into temp folders; TypeScript ones live in fixtures/typescript/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/typescript/', import.meta.url));

describe('plugin file formats', () => {
  const moduleType = `typeof require === 'function' ? 'commonjs' : 'module'`;
  const formats: {
    title: string;
    files: Record<string, string>;
    file: string;
    name: string;
    call: unknown[];
    expected: unknown;
    root?: string;
  }[] = [
    {
      title: '.mjs is loaded as an ES module',
      files: { 'plugin.mjs': `export function format() { return ${moduleType}; }` },
      file: 'plugin.mjs',
      name: 'format',
      call: [],
      expected: 'module',
    },
    {
      title: '.js under a package.json with "type": "module" is loaded as an ES module',
      files: {
        'package.json': '{ "type": "module" }',
        'plugin.js': `export function format() { return ${moduleType}; }`,
      },
      file: 'plugin.js',
      name: 'format',
      call: [],
      expected: 'module',
    },
    {
      title: '.js under a package.json with "type": "commonjs" is loaded as CommonJS (module.exports = { Foo })',
      files: {
        'package.json': '{ "type": "commonjs" }',
        'plugin.js': `function format() { return ${moduleType}; }\nmodule.exports = { format };`,
      },
      file: 'plugin.js',
      name: 'format',
      call: [],
      expected: 'commonjs',
    },
    {
      title: '.js with no package.json is loaded as CommonJS (exports.Foo =)',
      files: { 'plugin.js': `exports.format = function () { return ${moduleType}; };` },
      file: 'plugin.js',
      name: 'format',
      call: [],
      expected: 'commonjs',
    },
    {
      title: '.cjs is loaded as CommonJS',
      files: { 'plugin.cjs': `module.exports.format = () => ${moduleType};` },
      file: 'plugin.cjs',
      name: 'format',
      call: [],
      expected: 'commonjs',
    },
    {
      title: 'a default export is selected by "name": "default"',
      files: {
        'plugin.mjs': `export default function (name) { return 'default export greets ' + name; }\nexport const other = 1;`,
      },
      file: 'plugin.mjs',
      name: 'default',
      call: ['Ada'],
      expected: 'default export greets Ada',
    },
    {
      title: '.ts with type annotations and an interface, importing a sibling .ts module, is loaded as an ES module',
      files: {},
      file: join(FIXTURES, 'greet.ts'),
      root: FIXTURES,
      name: 'greet',
      call: ['Ada'],
      expected: { text: 'HELLO ADA!', moduleType: 'module' },
    },
    {
      title: '.mts is loaded as an ES module',
      files: {},
      file: join(FIXTURES, 'twice.mts'),
      root: FIXTURES,
      name: 'twice',
      call: [21],
      expected: { result: 42, moduleType: 'module' },
    },
    {
      title: '.cts is loaded as CommonJS',
      files: {},
      file: join(FIXTURES, 'triple.cts'),
      root: FIXTURES,
      name: 'triple',
      call: [14],
      expected: { result: 42, moduleType: 'commonjs' },
    },
  ];

  test.each(formats)('$title', async ({ files, file, name, call, expected, root }) => {
    // Fixtures in the repo lie outside the temp folder: they need the repo's fixture folder as the plugin root.
    const { glean } = await startGlean({
      files,
      config: [{ id: 'Plugin', file, name }],
      ...(root === undefined ? {} : { root }),
    });
    const plugin = await glean.reloadAndWatch<(...args: unknown[]) => unknown>('Plugin');
    expect(await plugin(...call)).toEqual(expected);
  });

  test('an error thrown in a TypeScript plugin has a stack naming the .ts file and the line of the throw', async () => {
    const file = join(FIXTURES, 'throws.ts');
    const line =
      (await readFile(file, 'utf8')).split('\n').findIndex((text) => text.includes('throw new RangeError')) + 1;
    expect(line).toBeGreaterThan(0);
    const { glean } = await startGlean({ config: [{ id: 'CheckOrder', file, name: 'checkOrder' }], root: FIXTURES });
    const checkOrder =
      await glean.reloadAndWatch<(order: { id: number; quantity: number }) => { ok: true }>('CheckOrder');
    expect(await checkOrder({ id: 1, quantity: 2 })).toEqual({ ok: true });
    const error = await rejectionOf(checkOrder({ id: 7, quantity: 0 }), RangeError);
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('order 7: quantity 0 is not positive');
    expect(error.stack).toMatch(/^RangeError: order 7: quantity 0 is not positive\n/);
    expect(error.stack).toContain(`throws.ts:${line}:`);
  });
});
