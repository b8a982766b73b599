/**
 * What a handle is for each kind of export: a function is called through it, an object's methods
 * are (its prototype's too, state kept between calls), a value is read synchronously from
 * `handle.value`; and findAll() picks ids by kind and methods. Each describe shares one Glean.
 */
import { describe, expect, test } from 'vitest';
import { ErrorCode, GleanError } from '@glean/core';
import { onCleanup } from './helpers/index.js';
import { rejectionOf } from './helpers/errors.js';
import { sharedGlean } from './helpers/glean.js';

describe('function exports', () => {
  const suite = sharedGlean({
    files: {
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
    config: [
      { id: 'Add', file: 'fns.mjs', name: 'add' },
      { id: 'UpperLater', file: 'fns.mjs', name: 'upperLater' },
      { id: 'Transform', file: 'fns.mjs', name: 'transform' },
    ],
  });

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
  const suite = sharedGlean({
    files: {
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
    config: [
      { id: 'Calc', file: 'objects.mjs', name: 'calc' },
      { id: 'Counter', file: 'objects.mjs', name: 'counter' },
    ],
  });

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
  const suite = sharedGlean({
    files: {
      'data.mjs': `
export const limit = 42;
export const settings = { region: 'eu', retries: 3, nested: { tags: ['a', 'b'] } };
export const regions = ['eu', 'us', 'ap'];
export const lookup = new Map([['eu', 1], ['us', 2]]);
export const tags = ['stable', 'fast'];
`,
    },
    config: [
      { id: 'Limit', file: 'data.mjs', name: 'limit' },
      { id: 'Settings', file: 'data.mjs', name: 'settings' },
      { id: 'Regions', file: 'data.mjs', name: 'regions' },
      { id: 'Lookup', file: 'data.mjs', name: 'lookup' },
      { id: 'Tags', file: 'data.mjs', name: 'tags' },
    ],
  });

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

describe('findAll', () => {
  const suite = sharedGlean({
    files: {
      'many.mjs': `
export const zeta = { add(a, b) { return a + b; }, sub(a, b) { return a - b; } };
export function add(a, b) { return a + b; }
export const alpha = { add(a, b) { return a + b; } };
export const counter = { increment() { return 1; } };
export const limit = 42;
export const regions = ['eu', 'us'];
`,
    },
    config: [
      { id: 'Zeta', file: 'many.mjs', name: 'zeta' },
      { id: 'Add', file: 'many.mjs', name: 'add' },
      { id: 'Alpha', file: 'many.mjs', name: 'alpha' },
      { id: 'Counter', file: 'many.mjs', name: 'counter' },
      { id: 'Limit', file: 'many.mjs', name: 'limit' },
      { id: 'Regions', file: 'many.mjs', name: 'regions' },
    ],
  });

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
