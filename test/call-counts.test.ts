/**
 * status() counts every call a handle makes, and every rejection, in one place: a call answered, a
 * method the export lacks, an id no longer configured, an export of another kind, a released handle.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type Handle } from '@glean/core';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

const calc = `export const calc = { add(a, b) { return a + b; } };
export function add(a, b) { return a + b; }
`;

describe('call counts', () => {
  it('counts every call through an id’s handles, and every rejection, whatever refused it', async () => {
    const { glean, temp } = await startGlean({
      files: { 'calc.mjs': calc },
      config: [{ id: 'Calc', file: 'calc.mjs', name: 'calc' }],
      prewarm: false,
    });
    const live = await glean.reloadAndWatch<{ add(a: number, b: number): number; missing(): void }>('Calc');
    const pinned = await glean.reload<{ add(a: number, b: number): number }>('Calc');

    expect(await live.add(1, 2)).toBe(3);
    expect((await rejectionOf(live.missing())).code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    await glean.release(pinned);
    expect((await rejectionOf(pinned.add(1, 2))).code).toBe(ErrorCode.RELEASED);
    expect(glean.status()['Calc']).toMatchObject({ calls: 3, errors: 2 });

    // The id leaves the config: its handles' calls reject, and still count.
    await temp.write('plugin.json', []);
    await glean.reloadConfig();
    expect((await rejectionOf(live.add(1, 2))).code).toBe(ErrorCode.NOT_CONFIGURED);

    // Back, as a function: the object handle cannot call it.
    await temp.write('plugin.json', [{ id: 'Calc', file: 'calc.mjs', name: 'add' }]);
    await glean.reloadConfig();
    expect((await rejectionOf(live.add(1, 2))).code).toBe(ErrorCode.KIND_CHANGED);
    const fn = await glean.reloadAndWatch<(a: number, b: number) => number>('Calc');
    expect(await fn(2, 3)).toBe(5);

    const status = glean.status()['Calc'];
    expect(status).toMatchObject({ kind: 'function', calls: 6, errors: 4 });
    expect(status?.lastError).toMatchObject({ code: ErrorCode.KIND_CHANGED });
    await glean.close();
    expect((await rejectionOf((fn as Handle<(a: number, b: number) => number>)(1, 1))).code).toBe(ErrorCode.CLOSED);
  });
});
