/**
 * The standalone `loadSymbol(file, name)`: a handle with no config, released with release(handle) or
 * `await using`, after which its calls reject GLEAN_RELEASED and its worker is gone.
 */
import { describe, expect, test } from 'vitest';
import { ErrorCode, loadSymbol, release, type Handle } from '@glean/core';
import { onCleanup, tempDir, threadCount, threadsBackTo } from './helpers/index.js';
import { rejectionOf, thrownBy } from './helpers/errors.js';

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
