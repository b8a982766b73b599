/**
 * State that must not leak between callers, and state that must not be lost: a value snapshot one
 * handle changes is not what another handle sees; status() keeps every id, whatever its name, and
 * counts every rejected call; a version started from a spare thread sees the environment as it is
 * when the version starts.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type GleanOptions } from '@glean/core';
import { onCleanup, type Entry } from './helpers/index.js';
import { expectThreadsBackAfterClose, failOnHostUnhandledRejections } from './helpers/faults.js';
import { rejectionOf } from './helpers/errors.js';
import { startGlean, type StartedGlean } from './helpers/glean.js';

failOnHostUnhandledRejections();

/** A Glean over `files` and `entries`, loaded; closed after the test. */
const setup = (files: Record<string, string>, entries: Entry[], options: GleanOptions = {}): Promise<StartedGlean> =>
  startGlean({ files, config: entries, configName: 'glean.json', ...options });

interface Data {
  map: Map<string, number>;
  set: Set<number>;
  date: Date;
  bytes: Uint8Array;
  nested: { x: number; deeper: { y: number } };
}

const DATA = `
export const data = {
  map: new Map([['a', 1]]),
  set: new Set([1]),
  date: new Date(1000),
  bytes: new Uint8Array([1, 2, 3]),
  nested: { x: 0, deeper: { y: 0 } },
};
`;

/** Runs `change`; an assignment into a frozen snapshot throws a TypeError in strict mode, which is an acceptable refusal. */
function tryToChange(change: () => void): void {
  try {
    change();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
  }
}

describe('value snapshots are not shared between handles', () => {
  it.each<[string, (data: Data) => void, (data: Data) => unknown, unknown]>([
    ['map.set', (data) => data.map.set('a', 666).set('b', 2), (data) => [...data.map], [['a', 1]]],
    ['set.add', (data) => data.set.add(666), (data) => [...data.set], [1]],
    ['date.setTime', (data) => data.date.setTime(0), (data) => data.date.getTime(), 1000],
    [
      'bytes[0] = 9',
      (data) => {
        data.bytes[0] = 9;
      },
      (data) => [...data.bytes],
      [1, 2, 3],
    ],
    // Frozen at HEAD already (the assignment throws): kept as a guard that a fix does not unfreeze the shared snapshot.
    [
      'an assignment into the nested plain object',
      (data) => {
        data.nested.x = 666;
        data.nested.deeper.y = 666;
      },
      (data) => data.nested,
      { x: 0, deeper: { y: 0 } },
    ],
  ])(
    '%s through one handle is not seen through another handle of the same id',
    async (_what, change, read, original) => {
      const s = await setup({ 'data.mjs': DATA }, [{ id: 'D', file: 'data.mjs', name: 'data' }]);
      const a = await s.glean.reloadAndWatch<Data>('D');
      const b = await s.glean.reloadAndWatch<Data>('D');
      expect(read(b.value)).toEqual(original);

      tryToChange(() => change(a.value));
      expect(read(b.value)).toEqual(original);
      // A handle made afterwards starts from the version's snapshot too.
      const c = await s.glean.reloadAndWatch<Data>('D');
      expect(read(c.value)).toEqual(original);
      await expectThreadsBackAfterClose(s);
    },
  );
});

describe('status()', () => {
  it('has an own entry for an id named "__proto__"', async () => {
    const s = await setup({ 'p.mjs': `export function echo(value) { return value; }\n` }, [
      { id: '__proto__', file: 'p.mjs', name: 'echo' },
      { id: 'Other', file: 'p.mjs', name: 'echo' },
    ]);
    const proto = await s.glean.reloadAndWatch<(value: string) => string>('__proto__');
    expect(await proto('x')).toBe('x');

    const status = s.glean.status();
    expect(Object.keys(status)).toEqual(['__proto__', 'Other']);
    expect(Object.hasOwn(status, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(status, '__proto__')?.value).toMatchObject({
      id: '__proto__',
      name: 'echo',
      calls: 1,
    });
    await expectThreadsBackAfterClose(s);
  });

  it('counts calls rejected for a full queue and for an uncloneable argument: four calls, three rejected, gives calls 4, errors 3', async () => {
    const s = await setup(
      {
        'p.mjs': `export const P = {\n  slow(ms) { return new Promise((resolve) => setTimeout(resolve, ms, 'slow')); },\n  echo(value) { return value; },\n};\n`,
      },
      [{ id: 'P', file: 'p.mjs', name: 'P', maxQueue: 0, concurrency: 1 }],
    );
    const p = await s.glean.reloadAndWatch<{ slow(ms: number): Promise<string>; echo(value: unknown): unknown }>('P');

    const slow = p.slow(300);
    expect((await rejectionOf(p.echo('no room'))).code).toBe(ErrorCode.QUEUE_FULL);
    expect(await slow).toBe('slow');
    expect((await rejectionOf(p.echo(function notSent() {}))).code).toBe(ErrorCode.NOT_CLONEABLE);
    expect((await rejectionOf(p.echo({ onDone() {} }))).code).toBe(ErrorCode.NOT_CLONEABLE);

    expect(s.glean.status()['P']).toMatchObject({ calls: 4, errors: 3 });
    await expectThreadsBackAfterClose(s);
  });
});

describe('process.env of a new version', () => {
  it('a version started after process.env changed sees the new value, with prewarm on (the default)', async () => {
    const name = 'GLEAN_TEST_X';
    const before = process.env[name];
    onCleanup(() => {
      if (before === undefined) delete process.env[name];
      else process.env[name] = before;
    });
    const source = (version: string): string =>
      `export function read() { return '${version}:' + process.env.${name}; }\n`;
    process.env[name] = 'a';
    const s = await setup({ 'env.mjs': source('v1') }, [{ id: 'E', file: 'env.mjs', name: 'read' }]);
    const read = await s.glean.reloadAndWatch<() => string>('E');
    expect(await read()).toBe('v1:a');

    // loadConfig() resolved once the spare threads were warm: they started while the variable was 'a'.
    process.env[name] = 'b';
    await s.temp.write('env.mjs', source('v2'));
    await s.glean.reloadConfig();
    expect(await read()).toBe('v2:b');
    await expectThreadsBackAfterClose(s);
  });
});
