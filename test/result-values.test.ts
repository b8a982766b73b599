/**
 * What a call's arguments and result become on the other thread, row by row of the table in the
 * README ("Values: what a call's arguments and result become"): each value is carried as itself, or
 * refused with GLEAN_NOT_CLONEABLE naming its place; never changed silently. Every row is tried both
 * ways, on real workers: built in the worker and returned, and built on the host and passed in (the
 * worker checks what it got). Then returned Errors, Buffers, exported classes, and a worker that
 * forges an encoded value.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, GleanError, transfer } from '@glean/core';
import { rejectionOf } from './helpers/errors.js';
import { failOnHostUnhandledRejections, faultySetup, settledWithin } from './helpers/faults.js';
import { sharedGlean, startGlean } from './helpers/glean.js';

failOnHostUnhandledRejections();

/** Fails a test after which the host saw an uncaught exception (vitest would catch it and let the test pass). */
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => void uncaught.push(error);
process.on('uncaughtException', onUncaught);
afterEach(() => {
  expect(uncaught.splice(0).map(String)).toEqual([]);
});
afterAll(() => {
  process.off('uncaughtException', onUncaught);
});

/** Both sides build a row's value and run its check from source, so a row is one pair of strings. */
const evaluate = (source: string): unknown => new Function(`return (${source});`)();

const VALUES = `
export const make = (source) => (0, eval)(source);
export const check = (source, value) => (0, eval)(source)(value);
export const echo = (value) => value;
`;

interface Api {
  make(source: string): unknown;
  check(source: string, value: unknown): boolean;
}

/** Rows carried as themselves: the value's source, and a check (source of a predicate) that holds on either side. */
const CARRIED: readonly (readonly [what: string, source: string, check: string])[] = [
  ['-0', '-0', '(v) => Object.is(v, -0)'],
  ['NaN', 'NaN', '(v) => Number.isNaN(v)'],
  ['a BigInt', '10n ** 30n', '(v) => v === 10n ** 30n'],
  ['undefined in an array', '[undefined, null]', '(v) => v.length === 2 && v[0] === undefined && v[1] === null'],
  ['a Date', "new Date('2026-01-02T03:04:05.678Z')", '(v) => v instanceof Date && v.getTime() === 1767323045678'],
  ['an invalid Date', 'new Date(NaN)', '(v) => v instanceof Date && Number.isNaN(v.getTime())'],
  [
    'a RegExp',
    '/a+b/giu',
    "(v) => v instanceof RegExp && v.source === 'a+b' && v.flags === 'giu' && v.lastIndex === 0",
  ],
  [
    'a RegExp with its lastIndex',
    'Object.assign(/a/g, { lastIndex: 3 })',
    "(v) => v instanceof RegExp && v.flags === 'g' && v.lastIndex === 3",
  ],
  [
    'a Map and a Set, nested',
    "new Map([[1, { a: 1 }], ['k', new Set([1, 'two'])]])",
    "(v) => v instanceof Map && v.get(1).a === 1 && v.get('k') instanceof Set && v.get('k').has('two')",
  ],
  ['a sparse array', '[1, , 3]', '(v) => v.length === 3 && !(1 in v) && v[2] === 3'],
  [
    'typed arrays and a DataView',
    '[new Uint16Array([1, 65535]), new Float64Array([1.5]), new BigInt64Array([-1n]), new DataView(new ArrayBuffer(4))]',
    '(v) => v[0] instanceof Uint16Array && v[0][1] === 65535 && v[1][0] === 1.5 && v[2][0] === -1n && v[3] instanceof DataView && v[3].byteLength === 4',
  ],
  ['an ArrayBuffer', 'new Uint8Array([7, 8]).buffer', '(v) => v instanceof ArrayBuffer && new Uint8Array(v)[1] === 8'],
  [
    'boxed primitives',
    "[new Number(3), new String('s'), new Boolean(false), Object(10n)]",
    "(v) => v[0] instanceof Number && +v[0] === 3 && v[1] instanceof String && String(v[1]) === 's' && v[2] instanceof Boolean && v[2].valueOf() === false && typeof v[3] === 'object' && v[3].valueOf() === 10n",
  ],
  [
    'a circular reference',
    "(() => { const a = { name: 'a' }; a.self = a; return a; })()",
    "(v) => v.self === v && v.name === 'a'",
  ],
  ['a shared reference', '(() => { const x = { n: 1 }; return [x, x]; })()', '(v) => v[0] === v[1]'],
  [
    'a URL',
    "new URL('https://example.org/a?b=1#c')",
    "(v) => v instanceof URL && v.href === 'https://example.org/a?b=1#c' && v.searchParams.get('b') === '1'",
  ],
  [
    'URLSearchParams',
    "new URLSearchParams('a=1&a=2&b=3')",
    "(v) => v instanceof URLSearchParams && v.getAll('a').join() === '1,2' && v.toString() === 'a=1&a=2&b=3'",
  ],
  [
    'Headers, set-cookie twice',
    "new Headers([['x-a', '1'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']])",
    "(v) => v instanceof Headers && v.get('x-a') === '1' && v.getSetCookie().join() === 'a=1,b=2'",
  ],
  [
    'a Buffer',
    "Buffer.from('hello')",
    "(v) => Buffer.isBuffer(v) && v.toString() === 'hello' && v.buffer.byteLength === 5",
  ],
  [
    'a Blob',
    "new Blob(['abc'], { type: 'text/plain' })",
    "(v) => v instanceof Blob && v.size === 3 && v.type === 'text/plain'",
  ],
  [
    'a File',
    "new File(['abc'], 'a.txt', { type: 'text/plain', lastModified: 5 })",
    "(v) => v instanceof File && v.name === 'a.txt' && v.type === 'text/plain' && v.lastModified === 5 && v.size === 3",
  ],
  [
    'a null-prototype object',
    'Object.assign(Object.create(null), { a: 1, nested: Object.assign(Object.create(null), { b: 2 }) })',
    '(v) => Object.getPrototypeOf(v) === null && v.a === 1 && Object.getPrototypeOf(v.nested) === null && v.nested.b === 2',
  ],
  [
    'a KeyObject',
    "process.getBuiltinModule('node:crypto').createSecretKey(Buffer.from('key'))",
    "(v) => v instanceof process.getBuiltinModule('node:crypto').KeyObject && v.export().toString() === 'key'",
  ],
  [
    'a getter, as the value it returns',
    '({ get total() { return 3; } })',
    "(v) => Object.getOwnPropertyDescriptor(v, 'total').value === 3",
  ],
  [
    'a non-enumerable property: not part of the value, as with JSON',
    "Object.defineProperty({ a: 1 }, 'hidden', { value: 2 })",
    "(v) => v.a === 1 && !('hidden' in v)",
  ],
  [
    'a symbol key: not part of the value, as with JSON',
    "({ a: 1, [Symbol('meta')]: 2 })",
    '(v) => v.a === 1 && Object.getOwnPropertySymbols(v).length === 0',
  ],
  [
    'values deep inside, with an array property beside them',
    "({ deep: [{ when: new URL('https://x.test/'), bytes: Buffer.from('b') }], list: Object.assign([1, new URL('https://y.test/')], { extra: 'kept' }) })",
    "(v) => v.deep[0].when instanceof URL && Buffer.isBuffer(v.deep[0].bytes) && v.list[1] instanceof URL && v.list.extra === 'kept'",
  ],
  [
    'a URL twice, and in a Map key and a Set',
    "(() => { const u = new URL('https://z.test/'); return { a: u, b: u, m: new Map([[u, 1]]), s: new Set([u]) }; })()",
    '(v) => v.a instanceof URL && v.a === v.b && [...v.m.keys()][0] === v.a && v.s.has(v.a)',
  ],
];

/** Rows refused: the value's source, and where and what the message names, from the root. */
const REFUSED: readonly (readonly [what: string, source: string, place: string])[] = [
  [
    'a class instance',
    '(() => { class Point { constructor() { this.x = 1; } } return { items: [0, 1, new Point()] }; })()',
    '.items[2] (an instance of Point)',
  ],
  [
    'a subclass of a built-in',
    '(() => { class Bytes extends Uint8Array {} return { b: new Bytes(2) }; })()',
    '.b (an instance of Bytes)',
  ],
  ['a Promise', '({ p: Promise.resolve(1) })', '.p (an instance of Promise)'],
  ['a WeakMap', '[new WeakMap()]', '[0] (an instance of WeakMap)'],
  ['a boxed symbol', "({ s: Object(Symbol('x')) })", '.s (an instance of Symbol)'],
  ['a property added to a Map', '({ m: Object.assign(new Map(), { note: 1 }) })', '.m.note (a property of a Map)'],
  [
    'a property added to a Date',
    "({ when: Object.assign(new Date(0), { tz: 'utc' }) })",
    '.when.tz (a property of a Date)',
  ],
  ['a function in a Map', "new Map([['k', function named() {}]])", '.get("k") (function named)'],
  ['a symbol in a Set', "new Set([1, Symbol('s')])", '.values()[1] (Symbol(s))'],
  ['a function as a Map key', 'new Map([[function key() {}, 1]])', '.keys()[0] (function key)'],
  ['a key that is no identifier', "({ 'a-b': { fn() {} } })", '["a-b"].fn (function fn)'],
];

describe('each row of the table, as a result and as an argument', () => {
  const glean = sharedGlean({
    files: { 'values.mjs': VALUES },
    config: [
      { id: 'Make', file: 'values.mjs', name: 'make' },
      { id: 'Check', file: 'values.mjs', name: 'check' },
      { id: 'Echo', file: 'values.mjs', name: 'echo' },
    ],
  });
  const make = (source: string): Promise<unknown> =>
    glean.glean.reloadAndWatch<Api['make']>('Make').then((fn) => fn(source));
  const check = (source: string, value: unknown): Promise<boolean> =>
    glean.glean.reloadAndWatch<Api['check']>('Check').then((fn) => fn(source, value));
  const echo = (value: unknown): Promise<unknown> =>
    glean.glean.reloadAndWatch<(v: unknown) => unknown>('Echo').then((fn) => fn(value));

  it.each(CARRIED)('%s, returned, arrives as itself', async (_what, source, predicate) => {
    const value = await make(source);
    expect((evaluate(predicate) as (v: unknown) => boolean)(value)).toBe(true);
  });

  it.each(CARRIED)(
    '%s, passed in, arrives in the worker as itself, and comes back so',
    async (_what, source, predicate) => {
      expect(await check(predicate, evaluate(source))).toBe(true);
      expect((evaluate(predicate) as (v: unknown) => boolean)(await echo(evaluate(source)))).toBe(true);
    },
  );

  it.each(REFUSED)('%s, returned, rejects GLEAN_NOT_CLONEABLE naming its place', async (_what, source, place) => {
    const error = await rejectionOf(make(source));
    expect(error.code).toBe(ErrorCode.NOT_CLONEABLE);
    expect(error.message).toContain(`: result${place} cannot be copied to the host: `);
  });

  it.each(REFUSED)(
    '%s, passed in, rejects GLEAN_NOT_CLONEABLE naming its place, before anything is sent',
    async (_what, source, place) => {
      const error = await rejectionOf(check('() => true', evaluate(source)));
      expect(error.code).toBe(ErrorCode.NOT_CLONEABLE);
      expect(error.message).toContain(`: args[1]${place} cannot be sent to the worker: `);
    },
  );

  it('pins the wording of a refusal', async () => {
    const error = await rejectionOf(make('(() => { class Point {} return { items: [new Point()] }; })()'));
    expect(error.message.replace(/\(.*values\.mjs\)/, '(values.mjs)')).toMatchInlineSnapshot(
      `"plugin "Make" (values.mjs): result.items[0] (an instance of Point) cannot be copied to the host: structured clone would keep its own fields and lose its class (prototype, methods, getters, instanceof); send plain data (an object, an array, a Map) and rebuild it on the other side"`,
    );
  });

  it('a refused result fails that call alone: the same worker serves the next', async () => {
    await rejectionOf(make('({ f() {} })'));
    expect(await make('1 + 1')).toBe(2);
    expect(glean.glean.status()['Make']).toMatchObject({ restarts: 0 });
  });

  it('a Buffer that is a view on a pooled ArrayBuffer carries only its own bytes, both ways', async () => {
    const pooled = Buffer.from('abc');
    expect(pooled.buffer.byteLength).toBeGreaterThan(3);
    expect(
      await check("(v) => Buffer.isBuffer(v) && v.buffer.byteLength === 3 && v.toString() === 'abc'", pooled),
    ).toBe(true);
    const back = (await make("Buffer.from('xyz')")) as Buffer;
    expect(Buffer.isBuffer(back)).toBe(true);
    expect([back.toString(), back.byteOffset, back.buffer.byteLength]).toEqual(['xyz', 0, 3]);
    // The caller's Buffer is untouched.
    expect(pooled.toString()).toBe('abc');
  });

  it('a Buffer marked with transfer() moves to the worker as a Buffer, leaving the caller none of its bytes', async () => {
    const body = Buffer.alloc(65_536, 1);
    expect(
      await check(
        '(v) => Buffer.isBuffer(v.body) && v.body.length === 65536 && v.body[65535] === 1',
        transfer({ body }, [body.buffer]),
      ),
    ).toBe(true);
    expect(body.byteLength).toBe(0);
  });
});

describe('a returned Error', () => {
  const PLUGIN = `
export class HttpError extends Error {
  constructor(message, options) { super(message, options); this.name = 'HttpError'; this.code = 'E_HTTP'; this.status = 404; }
}
class NotFound extends Error {}
export const make = (what) => {
  switch (what) {
    case 'subclass': {
      const error = new HttpError('no such page', { cause: Object.assign(new TypeError('bad id'), { code: 'E_ID' }) });
      error.details = { page: '/x', link: new URL('https://example.org/x') };
      return error;
    }
    case 'unnamed subclass': return new NotFound('gone');
    case 'everywhere': {
      const error = Object.assign(new RangeError('out'), { code: 'E_RANGE' });
      return { list: [error], map: new Map([['e', error]]), set: new Set([error]), nested: { error }, wrapped: new Error('outer', { cause: error }) };
    }
    case 'aggregate': return new AggregateError([new RangeError('r'), 'text', Object.assign(new Error('e'), { code: 'E_E' })], 'many');
    case 'deep causes': {
      let error = new Error('0');
      for (let i = 1; i < 20; i++) error = new Error(String(i), { cause: error });
      return error;
    }
    case 'dom': return new DOMException('stop', 'AbortError');
    case 'self': { const error = new Error('me'); error.self = error; return error; }
    case 'uncarried property': return Object.assign(new Error('with fn'), { code: 'E_FN', onRetry() {} });
    case 'throw': {
      const error = new HttpError('thrown');
      error.where = new URL('https://example.org/thrown');
      error.bytes = Buffer.from('ab');
      throw error;
    }
  }
};
export const check = (source, value) => (0, eval)(source)(value);
`;
  const started = sharedGlean({
    files: { 'errors.mjs': PLUGIN },
    config: [
      { id: 'Errors', file: 'errors.mjs', name: 'make' },
      { id: 'Check', file: 'errors.mjs', name: 'check' },
    ],
  });
  const make = (what: string): Promise<unknown> =>
    started.glean.reloadAndWatch<(what: string) => unknown>('Errors').then((fn) => fn(what));

  it('resolves as an Error with its class, name, message, code, own properties, cause chain and stack', async () => {
    const error = (await make('subclass')) as Error & Record<string, unknown>;
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(GleanError);
    expect([error.constructor.name, error.name, error.message, error.code, error.status]).toEqual([
      'HttpError',
      'HttpError',
      'no such page',
      'E_HTTP',
      404,
    ]);
    expect(error.details).toEqual({ page: '/x', link: new URL('https://example.org/x') });
    expect((error.details as { link: unknown }).link).toBeInstanceOf(URL);
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(error.cause).toMatchObject({ message: 'bad id', code: 'E_ID' });
    expect(error.stack).toMatch(/^HttpError: no such page\n.*errors\.mjs/s);
  });

  it('keeps the class name of a subclass that sets no name: name "Error", constructor HttpError-like', async () => {
    const error = (await make('unnamed subclass')) as Error;
    expect([error.constructor.name, error.name, error.message]).toEqual(['NotFound', 'Error', 'gone']);
    expect(error).toBeInstanceOf(Error);
  });

  it('inside an object, an array, a Map, a Set and as another error’s cause, one Error stays one', async () => {
    const result = (await make('everywhere')) as {
      list: Error[];
      map: Map<string, Error>;
      set: Set<Error>;
      nested: { error: Error };
      wrapped: Error;
    };
    const [error] = result.list;
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ message: 'out', code: 'E_RANGE' });
    expect(result.map.get('e')).toBe(error);
    expect(result.set.has(error!)).toBe(true);
    expect(result.nested.error).toBe(error);
    expect(result.wrapped.cause).toBeInstanceOf(RangeError);
    expect(result.wrapped.cause).toMatchObject({ message: 'out', code: 'E_RANGE' });
  });

  it('an AggregateError keeps its errors, Errors and other values', async () => {
    const error = (await make('aggregate')) as AggregateError;
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.message).toBe('many');
    expect(error.errors).toHaveLength(3);
    expect(error.errors[0]).toBeInstanceOf(RangeError);
    expect(error.errors[1]).toBe('text');
    expect(error.errors[2]).toMatchObject({ message: 'e', code: 'E_E' });
  });

  it('a cause chain is cut past 8 causes', async () => {
    let error = (await make('deep causes')) as Error | undefined;
    const messages: string[] = [];
    while (error instanceof Error) {
      messages.push(error.message);
      error = error.cause as Error | undefined;
    }
    expect(messages).toEqual(['19', '18', '17', '16', '15', '14', '13', '12', '11']);
  });

  it('a DOMException arrives as a DOMException, with its name and code', async () => {
    const error = (await make('dom')) as DOMException;
    expect(error).toBeInstanceOf(DOMException);
    expect([error.name, error.message, error.code]).toEqual(['AbortError', 'stop', 20]);
  });

  it('an Error whose property leads back to itself arrives so', async () => {
    const error = (await make('self')) as Error & { self: unknown };
    expect(error.self).toBe(error);
  });

  it('a property the table does not carry is left out, as from a thrown one; the Error arrives', async () => {
    const error = (await make('uncarried property')) as Error & Record<string, unknown>;
    expect(error).toMatchObject({ message: 'with fn', code: 'E_FN' });
    expect('onRetry' in error).toBe(false);
  });

  it('a thrown Error keeps the same: class, code, and a URL and a Buffer among its properties', async () => {
    const error = await rejectionOf(make('throw'), Error);
    expect([error.constructor.name, error.name, error.message, error['code']]).toEqual([
      'HttpError',
      'HttpError',
      'thrown',
      'E_HTTP',
    ]);
    expect(error['where']).toBeInstanceOf(URL);
    expect(Buffer.isBuffer(error['bytes'])).toBe(true);
  });

  it('an Error passed in arrives in the worker with its class, code and cause', async () => {
    const check = await started.glean.reloadAndWatch<(source: string, value: unknown) => boolean>('Check');
    const argument = Object.assign(new TypeError('bad argument', { cause: new Error('why') }), { code: 'E_ARG' });
    expect(
      await check(
        "(v) => v.error instanceof TypeError && v.error.code === 'E_ARG' && v.error.cause.message === 'why' && v.error.stack.includes('result-values')",
        { error: argument },
      ),
    ).toBe(true);
  });
});

describe('an exported class', () => {
  const PLUGIN = `
export class Widget { constructor(size = 1) { this.size = size; } grow() { return ++this.size; } }
export const widget = new Widget(2);
export const makeWidget = (size) => new Widget(size).grow();
export const api = { Widget, ping() { return 'pong'; } };
export function OldStyle() { return 'called'; }
`;

  it('is refused at load with GLEAN_CLASS_EXPORT saying what to export instead', async () => {
    const { glean } = await startGlean({
      files: { 'widget.mjs': PLUGIN },
      config: [{ id: 'W', file: 'widget.mjs', name: 'Widget' }],
      load: false,
    });
    const error = await rejectionOf(glean.loadConfig());
    expect(error.code).toBe(ErrorCode.CLASS_EXPORT);
    expect(error.message.replace(/\(.*widget\.mjs\)/, '(widget.mjs)')).toMatchInlineSnapshot(
      `"plugin "W" (widget.mjs): export "Widget" is a class (Widget), which a handle cannot call: export an instance (\`new Widget(…)\`), whose methods a handle calls, or a function that makes and uses one"`,
    );
  });

  it('as a method of an exported object, is refused at load too', async () => {
    const { glean } = await startGlean({
      files: { 'widget.mjs': PLUGIN },
      config: [{ id: 'Api', file: 'widget.mjs', name: 'api' }],
      load: false,
    });
    const error = await rejectionOf(glean.loadConfig());
    expect(error.code).toBe(ErrorCode.CLASS_EXPORT);
    expect(error.message).toContain('method "Widget" of export "api" is a class (Widget)');
  });

  it('what the error says to export instead works: an instance, a factory; a constructor function stays a function', async () => {
    const { glean } = await startGlean({
      files: { 'widget.mjs': PLUGIN },
      config: [
        { id: 'Instance', file: 'widget.mjs', name: 'widget' },
        { id: 'Factory', file: 'widget.mjs', name: 'makeWidget' },
        { id: 'Old', file: 'widget.mjs', name: 'OldStyle' },
      ],
    });
    const instance = await glean.reloadAndWatch<{ grow(): number }>('Instance');
    expect([await instance.grow(), await instance.grow()]).toEqual([3, 4]);
    expect(await (await glean.reloadAndWatch<(size: number) => number>('Factory'))(5)).toBe(6);
    expect(await (await glean.reloadAndWatch<() => string>('Old'))()).toBe('called');
  });
});

describe('a worker that forges an encoded value', () => {
  const FORGER = `
import { onNextMessage } from './glean-ports.mjs';

/** The forged message for the call that just arrived, whose id is 'id'. */
const forged = (attack, id) => {
  const self = { t: 'object', props: {} };
  self.props.self = self;
  const error = { isError: true, name: 'X', message: 'm', stack: undefined, props: {}, cause: undefined, className: '__proto__' };
  switch (attack) {
    case 'placeholders not a list': return [id, {}, 5];
    case 'an empty list': return [id, {}, []];
    case 'an unknown placeholder': { const p = { t: 'nope' }; return [id, p, [p]]; }
    case 'a placeholder that is not an object': return [id, 1, [1]];
    case 'a URL that does not parse': { const p = { t: 'url', href: 'not a url' }; return [id, p, [p]]; }
    case 'a URL that is a number': { const p = { t: 'url', href: 5 }; return [id, { at: p }, [p]]; }
    case 'a Buffer without bytes': { const p = { t: 'buffer', bytes: 'x' }; return [id, [p], [p]]; }
    case 'a malformed Error': { const p = { t: 'error', error: { isError: 'yes' } }; return [id, p, [p]]; }
    case 'an Error with a hostile class name': { const p = { t: 'error', error }; return [id, p, [p]]; }
    case 'Headers with a bad name': { const p = { t: 'headers', entries: [['bad name', 'v']] }; return [id, p, [p]]; }
    case 'a RegExp with bad flags': { const p = { t: 'regexp', source: 'a', flags: 'zz', lastIndex: 0 }; return [id, p, [p]]; }
    case 'a placeholder holding itself': return [id, self, [self]];
    case 'a thrown error with a bad placeholder': {
      const p = { t: 'url', href: 1 };
      return { type: 'error', id, error: { reason: 'thrown', error: { ...error, props: { p } } }, specials: [p] };
    }
    case 'a thrown error whose placeholders are not a list': return { type: 'error', id, error: { reason: 'thrown', error }, specials: 'x' };
  }
};

export const Faulty = {
  target() { return 'genuine'; },
  /** The next call to arrive is answered first by the forged message, posted on glean's call port. */
  arm(attack) {
    onNextMessage(
      (target, data) => Array.isArray(data),
      (target, data) => target.postMessage(forged(attack, data[0])),
    );
    return 'armed';
  },
};
`;
  const ATTACKS = [
    'placeholders not a list',
    'an empty list',
    'an unknown placeholder',
    'a placeholder that is not an object',
    'a URL that does not parse',
    'a URL that is a number',
    'a Buffer without bytes',
    'a malformed Error',
    'an Error with a hostile class name',
    'Headers with a bad name',
    'a RegExp with bad flags',
    'a placeholder holding itself',
    'a thrown error with a bad placeholder',
    'a thrown error whose placeholders are not a list',
  ] as const;

  it.each(ATTACKS)(
    'sending %s: the call settles with a value or a coded error, the host lives, the healthy plugin answers',
    async (attack) => {
      const s = await faultySetup<{ target(): string; arm(attack: string): string }>(FORGER, { drainTimeoutMs: 500 });
      expect(await s.faulty.arm(attack)).toBe('armed');
      const outcome = await settledWithin(s.faulty.target(), 5000);
      expect(outcome, 'the forged call still pending').not.toBe('pending');
      if (outcome !== 'pending' && 'error' in outcome) {
        expect(outcome.error).toBeInstanceOf(GleanError);
        expect([ErrorCode.NOT_CLONEABLE, ErrorCode.PLUGIN_CRASHED, ErrorCode.PLUGIN_THREW]).toContain(
          (outcome.error as GleanError).code,
        );
      }
      expect(await settledWithin(s.healthy('still here'), 5000)).toEqual({ value: 'still here' });
      // The worker is replaced once the genuine reply follows the forged one; a later call settles either way.
      expect(await settledWithin(s.faulty.target(), 5000)).not.toBe('pending');
    },
  );

  it('a URL that does not parse rejects that call GLEAN_NOT_CLONEABLE saying the encoding cannot be read', async () => {
    const s = await faultySetup<{ target(): string; arm(attack: string): string }>(FORGER, { drainTimeoutMs: 500 });
    await s.faulty.arm('a URL that does not parse');
    const error = await rejectionOf(s.faulty.target());
    expect(error.code).toBe(ErrorCode.NOT_CLONEABLE);
    expect(error.message).toContain('the result arrived encoded, and its encoding cannot be read on the host');
  });
});

describe('a streamed result', () => {
  const PLUGIN = `
export async function* values() { yield new URL('https://a.test/'); yield { at: Buffer.from('x'), when: new Date(5) }; }
export async function* refused() { yield 1; class Point {} yield { p: new Point() }; }
export const withHead = () => ({ status: 200, where: new URL('https://h.test/'), body: (async function* () { yield 'a'; })() });
`;
  const started = sharedGlean({
    files: { 'streams.mjs': PLUGIN },
    config: [
      { id: 'Values', file: 'streams.mjs', name: 'values' },
      { id: 'Refused', file: 'streams.mjs', name: 'refused' },
      { id: 'Head', file: 'streams.mjs', name: 'withHead' },
    ],
  });

  it('carries its items by the same table: a URL as a URL, a Buffer as a Buffer', async () => {
    const values = await started.glean.reloadAndWatch<() => AsyncIterable<unknown>>('Values');
    const items: unknown[] = [];
    for await (const item of await values()) items.push(item);
    expect(items[0]).toBeInstanceOf(URL);
    expect(Buffer.isBuffer((items[1] as { at: unknown }).at)).toBe(true);
    expect((items[1] as { when: unknown }).when).toEqual(new Date(5));
  });

  it('fails at an item the table refuses, naming it, after the items before it', async () => {
    const refused = await started.glean.reloadAndWatch<() => AsyncIterable<unknown>>('Refused');
    const items: unknown[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of await refused()) items.push(item);
      })(),
    );
    expect(items).toEqual([1]);
    expect(error.code).toBe(ErrorCode.NOT_CLONEABLE);
    expect(error.message).toContain('stream item 1.p (an instance of Point) cannot be copied to the host');
  });

  it('carries the object around the stream by the same table', async () => {
    const head = await started.glean.reloadAndWatch<() => { where: URL; body: AsyncIterable<string> }>('Head');
    const result = await head();
    expect(result.where).toBeInstanceOf(URL);
    const body: string[] = [];
    for await (const chunk of result.body) body.push(chunk);
    expect(body).toEqual(['a']);
  });
});
