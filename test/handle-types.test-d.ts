/**
 * The static shape of handles: every call crosses a thread, so functions and methods become async;
 * data is read from `value`; every handle has the `Symbol.asyncDispose` control.
 */
import { describe, expectTypeOf, test } from 'vitest';
import type { Readable } from 'node:stream';
import {
  loadSymbol,
  type Glean,
  type Handle,
  type HandleControls,
  type ResultStream,
  type ValueHandle,
} from '@glean/core';

declare const glean: Glean;
declare function add(a: number, b: number): number;

describe('function exports', () => {
  test('a sync function becomes the same function returning a promise, plus the controls', () => {
    type H = Handle<(a: number, b: number) => number>;
    expectTypeOf<H>().toEqualTypeOf<((a: number, b: number) => Promise<number>) & HandleControls>();
    expectTypeOf<H>().parameters.toEqualTypeOf<[a: number, b: number]>();
    expectTypeOf<H>().returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf<H[typeof Symbol.asyncDispose]>().toEqualTypeOf<() => Promise<void>>();
  });

  test("an async function's promise is not wrapped twice: Promise<Awaited<R>>", () => {
    type H = Handle<(id: string) => Promise<{ ok: boolean }>>;
    expectTypeOf<H>().returns.toEqualTypeOf<Promise<{ ok: boolean }>>();
    expectTypeOf<Handle<() => Promise<Promise<number>>>>().returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf<Handle<() => PromiseLike<string>>>().returns.toEqualTypeOf<Promise<string>>();
  });
});

describe('streamed results', () => {
  test('a function returning AsyncIterable<T> (an async generator, a ReadableStream) resolves to an AsyncIterable<T>', () => {
    type Gen = Handle<(n: number) => AsyncGenerator<number, void>>;
    expectTypeOf<Gen>().returns.toEqualTypeOf<Promise<ResultStream<number>>>();
    expectTypeOf<Awaited<ReturnType<Gen>>>().toExtend<AsyncIterable<number>>();
    expectTypeOf<Handle<() => Promise<ReadableStream<string>>>>().returns.toEqualTypeOf<
      Promise<ResultStream<string>>
    >();
    expectTypeOf<Awaited<ReturnType<Handle<() => Readable>>>>().toExtend<ResultStream<unknown>>();
    expectTypeOf<Handle<{ rows(): AsyncIterable<{ id: string }> }>['rows']>().returns.toEqualTypeOf<
      Promise<ResultStream<{ id: string }>>
    >();
  });

  test('a result that is not an async iterable is left as it was: strings, arrays, sync iterables', () => {
    expectTypeOf<Handle<() => string>>().returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf<Handle<() => number[]>>().returns.toEqualTypeOf<Promise<number[]>>();
    expectTypeOf<Handle<() => Iterable<number>>>().returns.toEqualTypeOf<Promise<Iterable<number>>>();
  });
});

describe('object exports', () => {
  class Calc {
    precision = 2;
    readonly label: string = 'calc';
    add(a: number, b: number): number {
      return a + b;
    }
    async load(id: string): Promise<string[]> {
      return [id];
    }
  }

  test('each method of a class becomes async and non-methods are dropped', () => {
    type H = Handle<Calc>;
    expectTypeOf<H>().toEqualTypeOf<
      {
        readonly add: (a: number, b: number) => Promise<number>;
        readonly load: (id: string) => Promise<string[]>;
      } & HandleControls
    >();
    expectTypeOf<H>().not.toHaveProperty('precision');
    expectTypeOf<H>().not.toHaveProperty('label');
    expectTypeOf<H['add']>().returns.toEqualTypeOf<Promise<number>>();
  });

  test('a plain object with methods and data maps the same way', () => {
    const plugin = {
      retries: 3,
      ping: (): 'pong' => 'pong',
      async fetch(url: string): Promise<number> {
        return url.length;
      },
    };
    type H = Handle<typeof plugin>;
    expectTypeOf<H>().toEqualTypeOf<
      { readonly ping: () => Promise<'pong'>; readonly fetch: (url: string) => Promise<number> } & HandleControls
    >();
    expectTypeOf<H>().not.toHaveProperty('retries');
  });
});

describe('data exports', () => {
  test('Handle<number> has a readonly value', () => {
    expectTypeOf<Handle<number>>().toEqualTypeOf<ValueHandle<number> & HandleControls>();
    expectTypeOf<Handle<number>['value']>().toEqualTypeOf<number>();
    (handle: Handle<number>) => {
      // @ts-expect-error value is read-only
      handle.value = 2;
    };
  });

  test('an object without methods is data: Handle<{ a: number }> has a readonly value', () => {
    expectTypeOf<Handle<{ a: number }>>().toEqualTypeOf<ValueHandle<{ a: number }> & HandleControls>();
    expectTypeOf<Handle<{ a: number }>['value']>().toEqualTypeOf<{ a: number }>();
    (handle: Handle<{ a: number }>) => {
      // @ts-expect-error value is read-only
      handle.value = { a: 1 };
    };
  });

  test('an array is data despite its methods: Handle<string[]> has a readonly value', () => {
    expectTypeOf<Handle<string[]>>().toEqualTypeOf<ValueHandle<string[]> & HandleControls>();
    expectTypeOf<Handle<string[]>>().not.toHaveProperty('push');
    expectTypeOf<Handle<Map<string, number>>['value']>().toEqualTypeOf<Map<string, number>>();
    (handle: Handle<string[]>) => {
      // @ts-expect-error value is read-only
      handle.value = [];
    };
  });
});

describe('getting handles', () => {
  test('glean.reloadAndWatch<typeof fn>(id) resolves to Handle<typeof fn>', () => {
    expectTypeOf(glean.reloadAndWatch<typeof add>('Add')).resolves.toEqualTypeOf<Handle<typeof add>>();
    expectTypeOf(glean.reload<typeof add>('Add')).resolves.toEqualTypeOf<Handle<typeof add>>();
  });

  test('loadSymbol<T>(file, name) resolves to Handle<T>', () => {
    expectTypeOf(loadSymbol<typeof add>('plugin.mjs', 'add')).resolves.toEqualTypeOf<Handle<typeof add>>();
  });
});
