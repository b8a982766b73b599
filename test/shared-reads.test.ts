/**
 * One generation's reads of a graph's config files (package.json, tsconfig.json): the check of a
 * running version and the versions the generation starts take the same read, and once the
 * generation has ended every read sees the disk again.
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SharedReads } from '../packages/core/src/modules/shared-reads.js';
import { tempDir } from './helpers/index.js';

const text = (read: Promise<Buffer>): Promise<string> =>
  read.then(
    (bytes) => bytes.toString('utf8'),
    (error: NodeJS.ErrnoException) => error.code ?? 'error',
  );

describe('SharedReads', () => {
  it('gives every asker during the generation the bytes of its first read, a missing file staying missing', async () => {
    const temp = await tempDir();
    const present = await temp.write('a/tsconfig.json', '{"v":1}');
    const reads = new SharedReads();
    expect(await text(reads.read(present))).toBe('{"v":1}');
    expect(await text(reads.read(temp.path('b/package.json')))).toBe('ENOENT');

    await temp.write('a/tsconfig.json', '{"v":2}');
    await temp.write('b/package.json', '{"type":"module"}');
    expect(await text(reads.read(present))).toBe('{"v":1}');
    expect(await text(reads.read(temp.path('b/package.json')))).toBe('ENOENT');
  });

  it('reads from disk once the generation has ended', async () => {
    const temp = await tempDir();
    const file = await temp.write('tsconfig.json', '{"v":1}');
    const reads = new SharedReads();
    expect(await text(reads.read(file))).toBe('{"v":1}');
    reads.end();

    await temp.write('tsconfig.json', '{"v":2}');
    expect(await text(reads.read(file))).toBe('{"v":2}');
    await rm(file);
    expect(await text(reads.read(file))).toBe('ENOENT');
  });

  it('refuses what a graph refuses to read, without waiting on it: a FIFO or a folder is no config file', async () => {
    const temp = await tempDir();
    const fifo = temp.path('tsconfig.json');
    execFileSync('mkfifo', [fifo]);
    const reads = new SharedReads();
    // No writer ever opens the FIFO: a read that waited for one would never settle.
    await expect(reads.read(fifo)).rejects.toThrow(`${fifo}: a FIFO, not a regular file`);
    expect(await text(reads.read(temp.dir))).toBe('EISDIR');
  });
});
