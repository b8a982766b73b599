/**
 * What a handle is for each kind of export (function, object, value), which plugin file formats
 * load, how plugin errors and load errors reach the caller, and the standalone `loadSymbol`.
 * Every plugin runs in real worker threads; plain JS plugins are written into temp folders,
 * TypeScript ones live in fixtures/kinds/.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorCode, Glean, GleanError, loadSymbol, release, type Handle } from '@glean/core';
import { onCleanup, tempDir, threadCount, threadsBackTo, type Entry, type TempDir } from './helpers/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/kinds/', import.meta.url));

/** An error as a test looks at it: plugin errors carry their own properties, GleanErrors their code. */
type Caught = Error & Record<string, unknown>;

/** What `promise` rejected with; fails the test if it resolved. */
async function rejectionOf(promise: Promise<unknown>): Promise<Caught> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Caught;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** What `read` threw; fails the test if it returned. */
function thrownBy(read: () => unknown): Caught {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Caught;
  }
  throw new Error('expected a throw, but it returned');
}

/** `error.message` with the folder replaced by `<dir>`, for inline snapshots. */
const stable = (error: Error, dir: string): string => error.message.replaceAll(dir, '<dir>');

/** A started Glean on a config of `entries` in `temp`, closed after the test. */
async function startGlean(temp: TempDir, entries: Entry[], root?: string): Promise<Glean> {
  const configPath = await temp.write('plugin.json', entries);
  // Fixtures in the repo lie outside the temp folder: they need the repo's fixture folder as the plugin root.
  const glean = new Glean(configPath, { watch: false, logger: false, ...(root === undefined ? {} : { root }) });
  onCleanup(() => glean.close());
  await glean.loadConfig();
  return glean;
}

/**
 * One Glean for a whole `describe`: writes `files` and a config of `entries` to a fresh folder
 * before the first test, closes the Glean and removes the folder after the last. (`tempDir()`
 * removes its folder after each test, so it cannot back a shared Glean.)
 */
function sharedGlean(files: Record<string, string>, entries: Entry[]): { readonly glean: Glean; readonly dir: string } {
  const suite = { glean: undefined as unknown as Glean, dir: '' };
  beforeAll(async () => {
    suite.dir = await mkdtemp(join(tmpdir(), 'glean-kinds-'));
    for (const [name, content] of Object.entries(files)) {
      await mkdir(dirname(join(suite.dir, name)), { recursive: true });
      await writeFile(join(suite.dir, name), content);
    }
    await writeFile(join(suite.dir, 'plugin.json'), JSON.stringify(entries));
    suite.glean = new Glean(join(suite.dir, 'plugin.json'), { watch: false, logger: false });
    await suite.glean.loadConfig();
  });
  afterAll(async () => {
    await suite.glean?.close();
    if (suite.dir !== '') await rm(suite.dir, { recursive: true, force: true });
  });
  return suite;
}

describe('function exports', () => {
  const suite = sharedGlean(
    {
      'fns.mjs': `
export function add(a, b) { return a + b; }
export async function upperLater(text) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return text.toUpperCase();
}
export function transform({ map, date, bytes }) {
  return {
    arrived: { map: map instanceof Map, date: date instanceof Date, bytes: bytes instanceof Uint8Array },
    map: new Map([...map].map(([key, n]) => [key, n * 2])),
    date: new Date(date.getTime() + 86_400_000),
    bytes: bytes.map((b) => b + 1),
  };
}
`,
    },
    [
      { id: 'Add', file: 'fns.mjs', name: 'add' },
      { id: 'UpperLater', file: 'fns.mjs', name: 'upperLater' },
      { id: 'Transform', file: 'fns.mjs', name: 'transform' },
    ],
  );

  test('a function handle is callable and returns a promise of the result', async () => {
    const add = await suite.glean.reloadAndWatch<(a: number, b: number) => number>('Add');
    expect(typeof add).toBe('function');
    const pending = add(2, 3);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe(5);
  });

  test("an async function's result is awaited in the worker: the caller gets the value, not a promise", async () => {
    const upperLater = await suite.glean.reloadAndWatch<(text: string) => Promise<string>>('UpperLater');
    const result: string = await upperLater('glean');
    expect(result).toBe('GLEAN');
  });

  test('arguments and results are structured-cloned: Map, Date and Uint8Array arrive and return as themselves', async () => {
    type Rich = { map: Map<string, number>; date: Date; bytes: Uint8Array };
    const transform =
      await suite.glean.reloadAndWatch<(input: Rich) => Rich & { arrived: Record<string, boolean> }>('Transform');
    const input: Rich = {
      map: new Map([
        ['a', 1],
        ['b', 2],
      ]),
      date: new Date('2026-01-02T03:04:05.000Z'),
      bytes: new Uint8Array([1, 2, 254]),
    };
    const result = await transform(input);
    expect(result.arrived).toEqual({ map: true, date: true, bytes: true });
    expect(result.map).toBeInstanceOf(Map);
    expect([...result.map]).toEqual([
      ['a', 2],
      ['b', 4],
    ]);
    expect(result.date).toBeInstanceOf(Date);
    expect(result.date.toISOString()).toBe('2026-01-03T03:04:05.000Z');
    expect(result.bytes).toBeInstanceOf(Uint8Array);
    expect([...result.bytes]).toEqual([2, 3, 255]);
    // The caller's values were copied, not moved or changed.
    expect([...input.map]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect([...input.bytes]).toEqual([1, 2, 254]);
  });
});

interface Calc {
  add(a: number, b: number): number;
  mul(a: number, b: number): Promise<number>;
  readonly precision: number;
}

interface Counter {
  increment(by?: number): number;
  read(): number;
}

describe('object exports', () => {
  const suite = sharedGlean(
    {
      'objects.mjs': `
export const calc = {
  precision: 2,
  add(a, b) { return a + b; },
  async mul(a, b) { return a * b; },
};
class Counter {
  #count;
  constructor(start) { this.#count = start; }
  increment(by = 1) { this.#count += by; return this.#count; }
  read() { return this.#count; }
}
export const counter = new Counter(10);
`,
    },
    [
      { id: 'Calc', file: 'objects.mjs', name: 'calc' },
      { id: 'Counter', file: 'objects.mjs', name: 'counter' },
    ],
  );

  test("a plain object's methods are called through the handle, each returning a promise", async () => {
    const calc = await suite.glean.reloadAndWatch<Calc>('Calc');
    expect(await calc.add(1, 2)).toBe(3);
    expect(await calc.mul(3, 4)).toBe(12);
    expect(Object.keys(calc).sort()).toEqual(['add', 'mul']);
  });

  test('a class instance answers with its prototype methods and keeps its state between calls', async () => {
    const counter = await suite.glean.reloadAndWatch<Counter>('Counter');
    expect(await counter.read()).toBe(10);
    expect(await counter.increment()).toBe(11);
    expect(await counter.increment(5)).toBe(16);
    expect(await counter.read()).toBe(16);
    // A second handle to the same id reaches the same instance in the same worker.
    const again = await suite.glean.reloadAndWatch<Counter>('Counter');
    expect(await again.read()).toBe(16);
  });

  test('calling a method the export does not have rejects GLEAN_SYMBOL_NOT_FOUND naming the methods it has', async () => {
    const calc = await suite.glean.reloadAndWatch<Calc & { divide(a: number, b: number): number }>('Calc');
    const error = await rejectionOf(calc.divide(1, 2));
    expect(error).toBeInstanceOf(GleanError);
    expect(error.code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    expect(error.message).toMatchInlineSnapshot(
      `""Calc": export "calc" has no method "divide"; methods are: add, mul"`,
    );
  });

  test('JSON.stringify of an object handle leaves no unhandled rejection behind', async () => {
    const calc = await suite.glean.reloadAndWatch<Calc>('Calc');
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', listener);
    onCleanup(() => process.off('unhandledRejection', listener));
    JSON.stringify({ calc });
    // Unhandled rejections are reported after the microtask queue drains; one round trip to the worker is later still.
    expect(await calc.add(1, 1)).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });

  test('awaiting reloadAndWatch gives the object handle itself: the proxy is not a thenable', async () => {
    const calc = await suite.glean.reloadAndWatch<Calc>('Calc');
    expect((calc as unknown as { then?: unknown }).then).toBeUndefined();
    expect(await (calc as unknown as PromiseLike<unknown>)).toBe(calc);
    expect(await calc.add(20, 22)).toBe(42);
  });
});

describe('data exports', () => {
  const suite = sharedGlean(
    {
      'data.mjs': `
export const limit = 42;
export const settings = { region: 'eu', retries: 3, nested: { tags: ['a', 'b'] } };
export const regions = ['eu', 'us', 'ap'];
export const lookup = new Map([['eu', 1], ['us', 2]]);
export const tags = ['stable', 'fast'];
`,
    },
    [
      { id: 'Limit', file: 'data.mjs', name: 'limit' },
      { id: 'Settings', file: 'data.mjs', name: 'settings' },
      { id: 'Regions', file: 'data.mjs', name: 'regions' },
      { id: 'Lookup', file: 'data.mjs', name: 'lookup' },
      { id: 'Tags', file: 'data.mjs', name: 'tags' },
    ],
  );

  test('a number export is read synchronously from handle.value', async () => {
    const limit = await suite.glean.reloadAndWatch<number>('Limit');
    const value: number = limit.value;
    expect(value).toBe(42);
    expect(suite.glean.status()['Limit']?.kind).toBe('value');
  });

  test('a plain object without methods is a value: handle.value is a snapshot of it', async () => {
    const settings = await suite.glean.reloadAndWatch<{ region: string; retries: number; nested: { tags: string[] } }>(
      'Settings',
    );
    expect(settings.value).toEqual({ region: 'eu', retries: 3, nested: { tags: ['a', 'b'] } });
    expect(suite.glean.status()['Settings']?.kind).toBe('value');
  });

  test("an array is a value, not an object export of its prototype's methods", async () => {
    const regions = await suite.glean.reloadAndWatch<string[]>('Regions');
    expect(Array.isArray(regions.value)).toBe(true);
    expect(regions.value).toEqual(['eu', 'us', 'ap']);
    expect(suite.glean.status()['Regions']?.kind).toBe('value');
    expect((regions as unknown as Record<string, unknown>)['push']).toBeUndefined();
  });

  test('a Map is a value too, despite the methods on its prototype', async () => {
    const lookup = await suite.glean.reloadAndWatch<Map<string, number>>('Lookup');
    expect(lookup.value).toBeInstanceOf(Map);
    expect([...lookup.value]).toEqual([
      ['eu', 1],
      ['us', 2],
    ]);
    expect(suite.glean.status()['Lookup']?.kind).toBe('value');
  });

  test('changing what one handle.value returned does not change what other readers of the id see', async () => {
    const mine = await suite.glean.reloadAndWatch<string[]>('Tags');
    try {
      (mine.value as string[]).push('mutated');
    } catch {
      // A frozen snapshot is a fine way to keep it intact.
    }
    const theirs = await suite.glean.reloadAndWatch<string[]>('Tags');
    expect(theirs.value).toEqual(['stable', 'fast']);
  });
});

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
    const temp = await tempDir();
    for (const [path, content] of Object.entries(files)) await temp.write(path, content);
    const glean = await startGlean(temp, [{ id: 'Plugin', file, name }], root);
    const plugin = await glean.reloadAndWatch<(...args: unknown[]) => unknown>('Plugin');
    expect(await plugin(...call)).toEqual(expected);
  });

  test('an error thrown in a TypeScript plugin has a stack naming the .ts file and the line of the throw', async () => {
    const file = join(FIXTURES, 'throws.ts');
    const line =
      (await readFile(file, 'utf8')).split('\n').findIndex((text) => text.includes('throw new RangeError')) + 1;
    expect(line).toBeGreaterThan(0);
    const temp = await tempDir();
    const glean = await startGlean(temp, [{ id: 'CheckOrder', file, name: 'checkOrder' }], FIXTURES);
    const checkOrder =
      await glean.reloadAndWatch<(order: { id: number; quantity: number }) => { ok: true }>('CheckOrder');
    expect(await checkOrder({ id: 1, quantity: 2 })).toEqual({ ok: true });
    const error = await rejectionOf(checkOrder({ id: 7, quantity: 0 }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('order 7: quantity 0 is not positive');
    expect(error.stack).toMatch(/^RangeError: order 7: quantity 0 is not positive\n/);
    expect(error.stack).toContain(`throws.ts:${line}:`);
  });
});

describe("a plugin's error reaches the caller as the plugin threw it", () => {
  const suite = sharedGlean(
    {
      'errors.mjs': `
export class ValidationError extends Error {
  name = 'ValidationError';
  constructor(message, details) {
    super(message);
    this.code = 'E_VALIDATION';
    this.status = 422;
    this.details = details;
  }
}
export function validate(order) {
  if (!order.email) throw new ValidationError('email is required', { field: 'email', rule: 'required' });
  return true;
}
export async function validateLater(order) {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return validate(order);
}
export function wrap() {
  throw new Error('saving failed', { cause: new TypeError('disk is read-only') });
}
export function throwString() { throw 'the string'; }
export async function rejectString() { throw 'the string'; }
`,
    },
    [
      { id: 'Validate', file: 'errors.mjs', name: 'validate' },
      { id: 'ValidateLater', file: 'errors.mjs', name: 'validateLater' },
      { id: 'Wrap', file: 'errors.mjs', name: 'wrap' },
      { id: 'ThrowString', file: 'errors.mjs', name: 'throwString' },
      { id: 'RejectString', file: 'errors.mjs', name: 'rejectString' },
    ],
  );
  type Validate = (order: { email?: string }) => boolean;

  function expectValidationError(error: Caught): void {
    expect(error).not.toBeInstanceOf(GleanError);
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('email is required');
    expect(error).toMatchObject({ code: 'E_VALIDATION', status: 422, details: { field: 'email', rule: 'required' } });
    expect(error.stack).toMatch(/^ValidationError: email is required\n/);
    expect(error.stack).toContain(`${pathToFileURL(join(suite.dir, 'errors.mjs')).href}:`);
  }

  test('a throw rejects with the same name, message, code, own properties and a stack from the plugin file', async () => {
    const validate = await suite.glean.reloadAndWatch<Validate>('Validate');
    expect(await validate({ email: 'a@b.c' })).toBe(true);
    expectValidationError(await rejectionOf(validate({})));
  });

  test('a rejected promise rejects with the plugin error likewise', async () => {
    const validateLater =
      await suite.glean.reloadAndWatch<(order: { email?: string }) => Promise<boolean>>('ValidateLater');
    expectValidationError(await rejectionOf(validateLater({})));
  });

  test("the plugin error's cause comes along", async () => {
    const wrap = await suite.glean.reloadAndWatch<() => void>('Wrap');
    const error = await rejectionOf(wrap());
    expect(error.message).toBe('saving failed');
    expect(error.cause).toBeInstanceOf(TypeError);
    expect((error.cause as Error).message).toBe('disk is read-only');
  });

  test('throwing a string rejects GLEAN_PLUGIN_THREW carrying the string as error.thrown', async () => {
    const throwString = await suite.glean.reloadAndWatch<() => void>('ThrowString');
    const error = await rejectionOf(throwString());
    expect(error).toBeInstanceOf(GleanError);
    expect(error.code).toBe(ErrorCode.PLUGIN_THREW);
    expect(error.thrown).toBe('the string');
    expect(stable(error, suite.dir)).toMatchInlineSnapshot(
      `"plugin "ThrowString" (<dir>/errors.mjs) threw a non-Error value: "the string""`,
    );
  });

  test('rejecting with a string rejects GLEAN_PLUGIN_THREW likewise', async () => {
    const rejectString = await suite.glean.reloadAndWatch<() => Promise<void>>('RejectString');
    const error = await rejectionOf(rejectString());
    expect(error.code).toBe(ErrorCode.PLUGIN_THREW);
    expect(error.thrown).toBe('the string');
  });
});

describe('a plugin that fails to load makes loadConfig reject and leaves no thread running', () => {
  const fine = `export function fine() { return 'fine'; }`;

  /**
   * Writes `files`, a config of a good plugin and `entry`, and returns loadConfig's rejection once
   * the thread count is back to what it was before the Glean was made.
   */
  async function failedLoad(
    files: Record<string, string>,
    entry: Entry,
  ): Promise<{ error: Caught; dir: string; elapsedMs: number }> {
    const temp = await tempDir();
    await temp.write('fine.mjs', fine);
    for (const [path, content] of Object.entries(files)) await temp.write(path, content);
    const configPath = await temp.write('plugin.json', [{ id: 'Fine', file: 'fine.mjs', name: 'fine' }, entry]);
    const baseline = threadCount();
    const glean = new Glean(configPath, { watch: false, logger: false });
    onCleanup(() => glean.close());
    const started = Date.now();
    const error = await rejectionOf(glean.loadConfig());
    const elapsedMs = Date.now() - started;
    expect(error).toBeInstanceOf(GleanError);
    await threadsBackTo(baseline);
    // Nothing was loaded: handles cannot be had for either id.
    await expect(glean.reloadAndWatch('Fine')).rejects.toBeInstanceOf(GleanError);
    return { error, dir: temp.dir, elapsedMs };
  }

  test('a missing export rejects GLEAN_SYMBOL_NOT_FOUND listing the exports that exist', async () => {
    const { error, dir } = await failedLoad(
      { 'plugin.mjs': `export function alpha() {}\nexport const beta = 2;\nexport default {};` },
      { id: 'Gamma', file: 'plugin.mjs', name: 'gamma', version: '1.0' },
    );
    expect(error.code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    expect(error.id).toBe('Gamma');
    expect(stable(error, dir)).toMatchInlineSnapshot(
      `"plugin "Gamma" (<dir>/plugin.mjs@1.0): export "gamma" not found; exports are: alpha, beta, default"`,
    );
  });

  test('a name a CommonJS module does not export is not found on Object.prototype of its module.exports', async () => {
    const { error } = await failedLoad(
      { 'plugin.cjs': `module.exports = { alpha() { return 1; } };` },
      { id: 'ToString', file: 'plugin.cjs', name: 'toString' },
    );
    expect(error.code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    expect(error.message).toContain('exports are: alpha, default');
  });

  test('a missing file rejects GLEAN_LOAD_FAILED', async () => {
    const { error, dir } = await failedLoad({}, { id: 'Missing', file: 'nowhere.mjs', name: 'nothing' });
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.file).toBe(join(dir, 'nowhere.mjs'));
    expect(stable(error, dir)).toMatchInlineSnapshot(
      `"plugin "Missing" (<dir>/nowhere.mjs): cannot read the plugin file (ENOENT)"`,
    );
  });

  test('a syntax error rejects GLEAN_LOAD_FAILED with the SyntaxError as cause', async () => {
    const { error } = await failedLoad(
      { 'broken.mjs': `export function broken( {\n  return 1;\n}\n` },
      { id: 'Broken', file: 'broken.mjs', name: 'broken' },
    );
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  test("an import that throws rejects GLEAN_LOAD_FAILED with the plugin's error as cause", async () => {
    const { error } = await failedLoad(
      {
        'throws.mjs': `
class SetupError extends Error { name = 'SetupError'; code = 'E_SETUP'; }
throw new SetupError('DATABASE_URL is not set');
export function never() {}
`,
      },
      { id: 'Throws', file: 'throws.mjs', name: 'never' },
    );
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).toMatchObject({ name: 'SetupError', message: 'DATABASE_URL is not set', code: 'E_SETUP' });
    expect((error.cause as Error).stack).toContain('throws.mjs:');
  });

  test('a top-level await that never finishes rejects GLEAN_LOAD_FAILED once loadTimeoutMs has passed', async () => {
    const { error, elapsedMs } = await failedLoad(
      { 'stuck.mjs': `await new Promise(() => {});\nexport function never() {}\n` },
      { id: 'Stuck', file: 'stuck.mjs', name: 'never', loadTimeoutMs: 300 },
    );
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    // The import never finishes, so the failure can only be the timeout's.
    expect(elapsedMs).toBeGreaterThanOrEqual(300);
  });
});

describe('unknown ids and closing', () => {
  const plugin = `
export function add(a, b) { return a + b; }
export const calc = { add(a, b) { return a + b; } };
export const limit = 42;
`;
  const entries: Entry[] = [
    { id: 'Add', file: 'plugin.mjs', name: 'add' },
    { id: 'Calc', file: 'plugin.mjs', name: 'calc' },
    { id: 'Limit', file: 'plugin.mjs', name: 'limit' },
  ];

  test('reloadAndWatch of an id not in the config rejects GLEAN_NOT_CONFIGURED naming the configured ids', async () => {
    const temp = await tempDir();
    await temp.write('plugin.mjs', plugin);
    const glean = await startGlean(temp, entries);
    const error = await rejectionOf(glean.reloadAndWatch('Nope'));
    expect(error.code).toBe(ErrorCode.NOT_CONFIGURED);
    expect(stable(error, temp.dir)).toMatchInlineSnapshot(
      `""Nope" is not configured in <dir>/plugin.json; configured ids are: Add, Calc, Limit"`,
    );
  });

  test('after close() every handle and method rejects GLEAN_CLOSED and no worker is left', async () => {
    const temp = await tempDir();
    await temp.write('plugin.mjs', plugin);
    const baseline = threadCount();
    const glean = await startGlean(temp, entries);
    const add = await glean.reloadAndWatch<(a: number, b: number) => number>('Add');
    const calc = await glean.reloadAndWatch<{ add(a: number, b: number): number }>('Calc');
    const limit = await glean.reloadAndWatch<number>('Limit');
    expect(await add(1, 1)).toBe(2);

    await glean.close();
    await threadsBackTo(baseline);
    for (const pending of [
      add(1, 2),
      calc.add(1, 2),
      glean.reloadAndWatch('Add'),
      glean.reload('Add'),
      glean.reloadConfig(),
    ]) {
      expect((await rejectionOf(pending)).code).toBe(ErrorCode.CLOSED);
    }
    expect(thrownBy(() => limit.value).code).toBe(ErrorCode.CLOSED);
  });

  test('loadConfig() after close() rejects GLEAN_CLOSED', async () => {
    const temp = await tempDir();
    await temp.write('plugin.mjs', plugin);
    const glean = await startGlean(temp, entries);
    await glean.close();
    expect((await rejectionOf(glean.loadConfig())).code).toBe(ErrorCode.CLOSED);
  });

  test('close() called twice returns the same promise', async () => {
    const temp = await tempDir();
    await temp.write('plugin.mjs', plugin);
    const glean = await startGlean(temp, entries);
    const first = glean.close();
    expect(glean.close()).toBe(first);
    await first;
    expect(glean.close()).toBe(first);
  });
});

describe('ids naming the same file, version and options share one version', () => {
  const suite = sharedGlean(
    {
      'shared.mjs': `
import { threadId } from 'node:worker_threads';
export function whichThread() { return threadId; }
export const calc = { whichThread() { return threadId; } };
`,
    },
    [
      { id: 'Fn', file: 'shared.mjs', name: 'whichThread', version: '1.0' },
      { id: 'Obj', file: 'shared.mjs', name: 'calc', version: '1.0' },
      { id: 'Wide', file: 'shared.mjs', name: 'whichThread', version: '1.0', threads: 2 },
    ],
  );

  test('two ids with different export names but the same file, version and options run in the same worker', async () => {
    const status = suite.glean.status();
    const fnThreads = status['Fn']?.threads.map((t) => t.threadId);
    expect(fnThreads).toHaveLength(1);
    expect(fnThreads?.[0]).toBeGreaterThan(0);
    expect(status['Obj']?.threads.map((t) => t.threadId)).toEqual(fnThreads);
    const fn = await suite.glean.reloadAndWatch<() => number>('Fn');
    const obj = await suite.glean.reloadAndWatch<{ whichThread(): number }>('Obj');
    expect(await fn()).toBe(fnThreads?.[0]);
    expect(await obj.whichThread()).toBe(fnThreads?.[0]);
  });

  test('an id with other options (threads) gets workers of its own', async () => {
    const status = suite.glean.status();
    const wide = status['Wide']?.threads.map((t) => t.threadId) ?? [];
    expect(wide).toHaveLength(2);
    expect(new Set(wide).size).toBe(2);
    for (const threadId of status['Fn']?.threads.map((t) => t.threadId) ?? []) expect(wide).not.toContain(threadId);
  });
});

describe('loadSymbol', () => {
  const standalone = `
export function add(a, b) { return a + b; }
export const limits = { max: 3, names: ['a', 'b'] };
`;

  /**
   * Returns `track`: every handle passed to it is released after the test, which then waits for the
   * workers to exit, since release() only starts the drain and a worker still exiting would inflate
   * the next test's thread baseline.
   */
  function releasedAfterTest(baseline: number): <T>(handle: T) => T {
    const handles: unknown[] = [];
    onCleanup(async () => {
      await Promise.all(handles.map((handle) => release(handle)));
      await threadsBackTo(baseline);
    });
    return (handle) => {
      handles.push(handle);
      return handle;
    };
  }

  test('loads a function and a value from a file with no config', async () => {
    const temp = await tempDir();
    const file = await temp.write('standalone.mjs', standalone);
    const track = releasedAfterTest(threadCount());
    const add = track(await loadSymbol<(a: number, b: number) => number>(file, 'add', { logger: false }));
    const limits = track(await loadSymbol<{ max: number; names: string[] }>(file, 'limits', { logger: false }));
    expect(await add(40, 2)).toBe(42);
    expect(limits.value).toEqual({ max: 3, names: ['a', 'b'] });
  });

  test('release(handle) terminates its worker, and later calls reject GLEAN_RELEASED', async () => {
    const temp = await tempDir();
    const file = await temp.write('standalone.mjs', standalone);
    const baseline = threadCount();
    const track = releasedAfterTest(baseline);
    const add = track(await loadSymbol<(a: number, b: number) => number>(file, 'add', { logger: false }));
    const limits = track(await loadSymbol<{ max: number }>(file, 'limits', { logger: false }));
    expect(threadCount()).toBeGreaterThan(baseline);
    expect(await add(1, 2)).toBe(3);

    await Promise.all([release(add), release(limits)]);
    await threadsBackTo(baseline);
    expect((await rejectionOf(add(1, 2))).code).toBe(ErrorCode.RELEASED);
    expect(thrownBy(() => limits.value).code).toBe(ErrorCode.RELEASED);
    // Idempotent.
    await release(add);
  });

  test('await using releases the handle at the end of the block', async () => {
    const temp = await tempDir();
    const file = await temp.write('standalone.mjs', standalone);
    const baseline = threadCount();
    let kept: Handle<(a: number, b: number) => number> | undefined;
    {
      await using add = await loadSymbol<(a: number, b: number) => number>(file, 'add', { logger: false });
      expect(await add(2, 3)).toBe(5);
      kept = add;
    }
    await threadsBackTo(baseline);
    expect((await rejectionOf(kept(2, 3))).code).toBe(ErrorCode.RELEASED);
  });

  test('a missing export rejects GLEAN_SYMBOL_NOT_FOUND and leaves no thread running', async () => {
    const temp = await tempDir();
    const file = await temp.write('standalone.mjs', standalone);
    const baseline = threadCount();
    const error = await rejectionOf(loadSymbol(file, 'sub', { logger: false }));
    expect(error.code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    expect(error.message).toContain('exports are: add, limits');
    await threadsBackTo(baseline);
  });
});

describe('findAll', () => {
  const suite = sharedGlean(
    {
      'many.mjs': `
export const zeta = { add(a, b) { return a + b; }, sub(a, b) { return a - b; } };
export function add(a, b) { return a + b; }
export const alpha = { add(a, b) { return a + b; } };
export const counter = { increment() { return 1; } };
export const limit = 42;
export const regions = ['eu', 'us'];
`,
    },
    [
      { id: 'Zeta', file: 'many.mjs', name: 'zeta' },
      { id: 'Add', file: 'many.mjs', name: 'add' },
      { id: 'Alpha', file: 'many.mjs', name: 'alpha' },
      { id: 'Counter', file: 'many.mjs', name: 'counter' },
      { id: 'Limit', file: 'many.mjs', name: 'limit' },
      { id: 'Regions', file: 'many.mjs', name: 'regions' },
    ],
  );

  test('findAll({ methods }) gives the ids whose export has every one of those methods, in config order', () => {
    expect(suite.glean.findAll({ methods: ['add'] })).toEqual(['Zeta', 'Alpha']);
    expect(suite.glean.findAll({ methods: ['add', 'sub'] })).toEqual(['Zeta']);
    expect(suite.glean.findAll({ methods: ['divide'] })).toEqual([]);
  });

  test('findAll({ kind }) gives the ids of that kind, in config order', () => {
    expect(suite.glean.findAll({ kind: 'value' })).toEqual(['Limit', 'Regions']);
    expect(suite.glean.findAll({ kind: 'function' })).toEqual(['Add']);
    expect(suite.glean.findAll()).toEqual(['Zeta', 'Add', 'Alpha', 'Counter', 'Limit', 'Regions']);
  });
});
