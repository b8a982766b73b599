/**
 * The test helpers' own promises: cleanups run after the test in reverse order of registration, a
 * failing one does not stop the others, and a test's temp folders are removed after all of its
 * cleanups, wherever in the test they were made. No threads: the tests of this file run in order,
 * each later one checking what the cleanups of an earlier one did.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { onCleanup, tempDir } from './helpers/index.js';

describe('cleanups', () => {
  const ran: string[] = [];
  const folders: string[] = [];
  const seen = new Map<string, boolean>();

  test('registered in a test, with temp folders made before and after them', async () => {
    const first = await tempDir();
    folders.push(first.dir);
    onCleanup(() => {
      ran.push('a');
      seen.set('a saw the first folder', existsSync(first.dir));
    });
    const second = await tempDir();
    folders.push(second.dir);
    onCleanup(async () => {
      ran.push('b');
      seen.set('b saw the second folder', existsSync(second.dir));
    });
    expect(ran).toEqual([]);
  });

  test('ran after it, last registered first, before its temp folders were removed', () => {
    expect(ran).toEqual(['b', 'a']);
    expect(Object.fromEntries(seen)).toEqual({ 'b saw the second folder': true, 'a saw the first folder': true });
    for (const dir of folders) expect(existsSync(dir), dir).toBe(false);
  });

  test.fails('one that throws fails its test', () => {
    onCleanup(() => void ran.push('after the failing one'));
    onCleanup(() => {
      throw new Error('a failing cleanup'); // registered last: runs first
    });
  });

  test('and the others still ran', () => {
    expect(ran.at(-1)).toBe('after the failing one');
  });
});

describe('outside a test', () => {
  let thrown: unknown;
  beforeAll(async () => {
    thrown = await tempDir().catch((error: unknown) => error);
  });

  test('tempDir() in beforeAll rejects, naming what to use instead', () => {
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatchInlineSnapshot(
      `"tempDir() runs after the current test, but no test is running: in beforeAll use sharedGlean() or ownedTempDir()"`,
    );
  });
});
