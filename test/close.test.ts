/**
 * The end of a Glean and ids it does not know: reloadAndWatch of an unknown id names the configured
 * ones; after close() every handle, method and API call rejects GLEAN_CLOSED and no worker is left;
 * close() is idempotent.
 */
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '@glean/core';
import { threadsBackTo, type Entry } from './helpers/index.js';
import { rejectionOf, stable, thrownBy } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

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
    const { glean, temp } = await startGlean({ files: { 'plugin.mjs': plugin }, config: entries });
    const error = await rejectionOf(glean.reloadAndWatch('Nope'));
    expect(error.code).toBe(ErrorCode.NOT_CONFIGURED);
    expect(stable(error, temp.dir)).toMatchInlineSnapshot(
      `""Nope" is not configured in <dir>/plugin.json; configured ids are: Add, Calc, Limit"`,
    );
  });

  test('after close() every handle and method rejects GLEAN_CLOSED and no worker is left', async () => {
    const { glean, baseline } = await startGlean({ files: { 'plugin.mjs': plugin }, config: entries });
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
    const { glean } = await startGlean({ files: { 'plugin.mjs': plugin }, config: entries });
    await glean.close();
    expect((await rejectionOf(glean.loadConfig())).code).toBe(ErrorCode.CLOSED);
  });

  test('close() called twice returns the same promise', async () => {
    const { glean } = await startGlean({ files: { 'plugin.mjs': plugin }, config: entries });
    const first = glean.close();
    expect(glean.close()).toBe(first);
    await first;
    expect(glean.close()).toBe(first);
  });
});
