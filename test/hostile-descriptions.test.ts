/**
 * An export's description comes from the worker, where plugin code can patch what builds it: the
 * handle the host makes of it must still behave.
 */
import { describe, expect, it } from 'vitest';
import { startGlean } from './helpers/glean.js';

describe('a description built under patched built-ins', () => {
  it('a method list with repeated names (Set iteration patched in the worker) gives a handle whose keys list each method once', async () => {
    const { glean } = await startGlean({
      files: {
        'calc.mjs': `const iterate = Set.prototype[Symbol.iterator];
Set.prototype[Symbol.iterator] = function* () { for (const item of iterate.call(this)) { yield item; yield item; } };
export const calc = { add(a, b) { return a + b; }, neg(a) { return -a; } };
`,
      },
      config: [{ id: 'Calc', file: 'calc.mjs', name: 'calc' }],
    });
    const calc = await glean.reloadAndWatch<{ add(a: number, b: number): number; neg(a: number): number }>('Calc');
    expect(Object.keys(calc)).toEqual(['add', 'neg']);
    expect({ ...calc }).toHaveProperty('neg');
    expect(await calc.add(2, 3)).toBe(5);
    expect(glean.findAll({ methods: ['add', 'neg'] })).toEqual(['Calc']);
  });
});
