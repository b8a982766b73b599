/**
 * Files that are not regular files, or are too large, as the config, as a plugin file, and for
 * `glean hash`. `fs.readFile` on a FIFO blocks a libuv threadpool thread in open() until a writer
 * comes (for ever, here) and reads `/dev/zero` until memory runs out; glean refuses both at once,
 * from the open handle, with a coded error naming the file and what it is, and keeps serving.
 *
 * Every wait is bounded: a read that hangs fails its test instead of the run. FIFOs are opened for
 * writing once at cleanup, so a read stuck on one (only ever without the fix) lets go of its thread.
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { appendFile, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, test } from 'vitest';
import { ErrorCode, type Glean, type GleanOptions } from '@glean/core';
import {
  MAX_CONFIG_BYTES,
  MAX_PLUGIN_FILE_BYTES,
  RefusedFileError,
  openRegularFile,
  readOpenedFile,
  readRegularFile,
} from '../packages/core/src/read-file.js';
import { nextEvent, onCleanup, tempDir, type TempDir } from './helpers/index.js';
import { gleanOver } from './helpers/glean.js';

/** Long enough for a loaded machine to open, fstat and refuse a file; far shorter than a read that hangs. */
const PROMPTLY_MS = 3_000;

/** `promise`, or a rejection naming `what` after `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = PROMPTLY_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The error `promise` rejects with, within the bound. */
async function rejection(promise: Promise<unknown>, what: string): Promise<Error & { code?: string }> {
  const outcome = await within(
    promise.then(
      (value: unknown) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    what,
  );
  if (!('error' in outcome)) throw new Error(`${what}: expected a rejection, got ${String(outcome.value)}`);
  return outcome.error as Error & { code?: string };
}

/** Every FIFO made so far (paths of removed folders stay: opening them fails, harmlessly). */
const fifos = new Set<string>();

/** Opens every FIFO made so far for writing, then closes it: an open() blocked on one returns, and its read sees the end. */
function releaseFifos(): void {
  for (const fifo of fifos) {
    try {
      // O_RDWR never blocks on a FIFO (Linux): it counts as the writer a blocked reader waits for.
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
    } catch {
      // gone, or replaced by a regular file: nothing waits on it
    }
  }
}

/** Makes a real FIFO at `relative` in `temp` (mkfifo); released at cleanup, before the folder goes. */
function fifo(temp: TempDir, relative: string): string {
  const file = temp.path(relative);
  execFileSync('mkfifo', [file]);
  fifos.add(file);
  onCleanup(releaseFifos);
  return file;
}

/** A Glean over `configPath`, without watching or logging unless asked; closed (bounded) after the test. */
function glean(configPath: string, options: GleanOptions = {}): Glean {
  const instance = gleanOver(configPath, options);
  // Runs before gleanOver's own close() (cleanups run as a stack), which then returns the same promise.
  onCleanup(async () => {
    releaseFifos(); // without the fix, close() waits for the read stuck on a FIFO
    await within(instance.close(), 'close()');
  });
  return instance;
}

const plugin = (tag: string): string => `export function greet(name) { return '${tag}:' + name; }\n`;
const entries = (file = 'greet.mjs'): unknown => [{ id: 'G', file, name: 'greet' }];
const stable = (text: string, temp: TempDir): string => text.replaceAll(temp.dir, '<dir>');

describe('the config is not a regular file', () => {
  it.each([
    ['a FIFO', (temp: TempDir) => fifo(temp, 'plugin.json'), 'a FIFO'],
    [
      '/dev/zero through a symlink',
      (temp: TempDir) => symlink('/dev/zero', temp.path('plugin.json')),
      'a character device',
    ],
    [
      '/dev/null through a symlink',
      (temp: TempDir) => symlink('/dev/null', temp.path('plugin.json')),
      'a character device',
    ],
  ] as const)(
    '%s: loadConfig() rejects GLEAN_CONFIG_UNREADABLE at once, naming it, and close() settles',
    async (_what, makeIt, kind) => {
      const temp = await tempDir();
      await temp.write('greet.mjs', plugin('v1'));
      await makeIt(temp);
      const g = glean(temp.path('plugin.json'));

      const error = await rejection(g.loadConfig(), 'loadConfig()');
      expect(error.code).toBe(ErrorCode.CONFIG_UNREADABLE);
      expect(stable(error.message, temp)).toBe(`config <dir>/plugin.json is unreadable: ${kind}, not a regular file`);
      await within(g.close(), 'close()');
    },
  );

  it('a FIFO: the wording', async () => {
    const temp = await tempDir();
    fifo(temp, 'plugin.json');
    const error = await rejection(glean(temp.path('plugin.json')).loadConfig(), 'loadConfig()');
    expect(stable(error.message, temp)).toMatchInlineSnapshot(
      `"config <dir>/plugin.json is unreadable: a FIFO, not a regular file"`,
    );
  });

  it('replaced by a FIFO: reloadConfig() rejects at once, the running version keeps serving, and a later valid config applies', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', plugin('v1'));
    const configPath = await temp.write('plugin.json', entries());
    const g = glean(configPath);
    await within(g.loadConfig(), 'loadConfig()');
    const greet = await g.reloadAndWatch<(name: string) => string>('G');
    expect(await greet('a')).toBe('v1:a');

    await rm(configPath);
    fifo(temp, 'plugin.json');
    const error = await rejection(g.reloadConfig(), 'reloadConfig() of a FIFO');
    expect(error.code).toBe(ErrorCode.CONFIG_UNREADABLE);
    expect(await within(greet('b'), 'a call after the failed reload')).toBe('v1:b');

    // The reload queue is not stuck behind the FIFO: the next valid config applies.
    await temp.write('greet2.mjs', plugin('v2'));
    await temp.replace('plugin.json', entries('greet2.mjs'));
    await within(g.reloadConfig(), 'reloadConfig() of a valid config');
    expect(await within(greet('c'), 'a call after the good reload')).toBe('v2:c');
  });

  it('watched: a FIFO renamed over the config is an error event, and the next valid config is reloaded', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', plugin('v1'));
    const configPath = await temp.write('plugin.json', entries());
    const g = glean(configPath, { watch: true, watchFiles: false });
    await within(g.loadConfig(), 'loadConfig()');
    const greet = await g.reloadAndWatch<(name: string) => string>('G');

    const failed = nextEvent<Error & { code?: string }>(g, 'error', () => true, PROMPTLY_MS);
    const made = fifo(temp, 'next.fifo');
    fifos.add(configPath);
    await rename(made, configPath);
    expect((await failed).code).toBe(ErrorCode.CONFIG_UNREADABLE);
    expect(await within(greet('a'), 'a call while the config is a FIFO')).toBe('v1:a');

    const reloaded = nextEvent(g, 'reload', () => true, PROMPTLY_MS);
    await temp.write('greet2.mjs', plugin('v2'));
    await temp.replace('plugin.json', entries('greet2.mjs'));
    await reloaded;
    expect(await within(greet('b'), 'a call after the reload')).toBe('v2:b');
  });

  it('over 16 MiB: GLEAN_CONFIG_UNREADABLE naming the size and the limit; 16 MiB exactly is read', async () => {
    const temp = await tempDir();
    const configPath = temp.path('plugin.json');
    // Valid JSON of exactly the limit: an empty list padded with spaces.
    await writeFile(configPath, '[]'.padEnd(MAX_CONFIG_BYTES, ' '));
    await within(glean(configPath).loadConfig(), 'loadConfig() of 16 MiB');

    await appendFile(configPath, ' ');
    const error = await rejection(glean(configPath).loadConfig(), 'loadConfig() of 16 MiB + 1');
    expect(error.code).toBe(ErrorCode.CONFIG_UNREADABLE);
    expect(stable(error.message, temp)).toMatchInlineSnapshot(
      `"config <dir>/plugin.json is unreadable: 16777217 bytes, over the 16 MiB limit"`,
    );
  });
});

describe('a plugin file is not a regular file', () => {
  it('a FIFO inside the root: loadConfig() rejects GLEAN_LOAD_FAILED at once, naming it, and close() settles', async () => {
    const temp = await tempDir();
    fifo(temp, 'greet.mjs');
    const g = glean(await temp.write('plugin.json', entries()));

    const error = await rejection(g.loadConfig(), 'loadConfig()');
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(stable(error.message, temp)).toMatchInlineSnapshot(
      `"plugin "G" (<dir>/greet.mjs): cannot read the plugin file (a FIFO, not a regular file)"`,
    );
    await within(g.close(), 'close()');
  });

  it.each([
    ['/dev/zero', 'a character device'],
    ['/dev/null', 'a character device'],
  ])('%s through a symlink, with the root "/": GLEAN_LOAD_FAILED at once, naming it', async (device, kind) => {
    const temp = await tempDir();
    await symlink(device, temp.path('greet.mjs'));
    const g = glean(await temp.write('plugin.json', entries()), { root: '/' });

    const error = await rejection(g.loadConfig(), 'loadConfig()');
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(stable(error.message, temp)).toBe(
      `plugin "G" (<dir>/greet.mjs): cannot read the plugin file (${kind}, not a regular file)`,
    );
  });

  it('/dev/zero through a symlink, with the default root: GLEAN_OUTSIDE_ROOT, as any file outside it', async () => {
    const temp = await tempDir();
    await symlink('/dev/zero', temp.path('greet.mjs'));
    const error = await rejection(glean(await temp.write('plugin.json', entries())).loadConfig(), 'loadConfig()');
    expect(error.code).toBe(ErrorCode.OUTSIDE_ROOT);
  });

  it('a plugin file replaced by a FIFO: reloadConfig() rejects GLEAN_LOAD_FAILED at once and the running version keeps serving', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', plugin('v1'));
    const g = glean(await temp.write('plugin.json', entries()));
    await within(g.loadConfig(), 'loadConfig()');
    const greet = await g.reloadAndWatch<(name: string) => string>('G');

    await rm(temp.path('greet.mjs'));
    fifo(temp, 'greet.mjs');
    const error = await rejection(g.reloadConfig(), 'reloadConfig()');
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(await within(greet('a'), 'a call after the failed reload')).toBe('v1:a');
  });

  it('over 64 MiB: GLEAN_LOAD_FAILED naming the size and the limit, before a byte is read', async () => {
    const temp = await tempDir();
    const file = await temp.write('greet.mjs', '');
    await truncate(file, MAX_PLUGIN_FILE_BYTES + 1); // sparse: no disk, and nothing is read
    const error = await rejection(glean(await temp.write('plugin.json', entries())).loadConfig(), 'loadConfig()');
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(stable(error.message, temp)).toMatchInlineSnapshot(
      `"plugin "G" (<dir>/greet.mjs): cannot read the plugin file (67108865 bytes, over the 64 MiB limit)"`,
    );
  });
});

test('as many FIFO reads as the threadpool has threads leave it free: fs.promises.readFile of an ordinary file still answers', async () => {
  const temp = await tempDir();
  const ordinary = await temp.write('ordinary.txt', 'still here');
  const threads = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
  const loads = Array.from({ length: threads }, (_, i) => glean(fifo(temp, `config-${i}.json`)).loadConfig());
  const settled = Promise.allSettled(loads); // no unhandled rejection while the read below is awaited

  expect(await within(readFile(ordinary, 'utf8'), 'readFile of an ordinary file')).toBe('still here');
  const outcomes = await within(settled, `${threads} loadConfig() of FIFOs`);
  expect(
    outcomes.map((outcome) =>
      outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : 'resolved',
    ),
  ).toEqual(Array.from({ length: threads }, () => ErrorCode.CONFIG_UNREADABLE));
});

describe('glean hash', () => {
  const PACKAGE = fileURLToPath(new URL('../packages/core/', import.meta.url));
  const manifest = JSON.parse(readFileSync(`${PACKAGE}package.json`, 'utf8')) as { bin: Record<string, string> };
  const GLEAN = fileURLToPath(new URL(manifest.bin['glean'] ?? 'missing', `file://${PACKAGE}`));

  /** Runs the built `glean` in `cwd`; killed, and so failing the test, if it does not exit promptly. */
  function hash(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        GLEAN,
        ['hash', ...args],
        { cwd, encoding: 'utf8', timeout: PROMPTLY_MS, maxBuffer: 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : error.code;
          if (typeof code !== 'number')
            reject(
              new Error(
                `glean hash ${args.join(' ')} did not exit within ${PROMPTLY_MS} ms (${error?.signal ?? String(error)})`,
              ),
            );
          else resolve({ code, stdout, stderr });
        },
      );
    });
  }

  test('a FIFO: exit 1 at once, saying what it is; the other files are still hashed', async () => {
    const temp = await tempDir();
    fifo(temp, 'pipe');
    await temp.write('a.js', '');
    expect(await hash(['pipe', 'a.js'], temp.dir)).toEqual({
      code: 1,
      stdout: 'sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb  a.js\n',
      stderr: 'glean: cannot read pipe: a FIFO, not a regular file\n',
    });
  });

  test.each([['/dev/zero'], ['zero']])('/dev/zero (as %s): exit 1 at once, no bytes read', async (name) => {
    const temp = await tempDir();
    await symlink('/dev/zero', temp.path('zero'));
    expect(await hash([name], temp.dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: `glean: cannot read ${name}: a character device, not a regular file\n`,
    });
  });

  test('over 64 MiB: exit 1 naming the limit', async () => {
    const temp = await tempDir();
    await truncate(await temp.write('big.js', ''), MAX_PLUGIN_FILE_BYTES + 1);
    expect(await hash(['big.js'], temp.dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'glean: cannot read big.js: 67108865 bytes, over the 64 MiB limit\n',
    });
  });
});

describe('readRegularFile: the one bounded reader', () => {
  test('reads a file of exactly the limit; one byte more is refused', async () => {
    const temp = await tempDir();
    const file = await temp.write('ten.txt', '0123456789');
    expect((await readRegularFile(file, 10, { follow: false })).toString()).toBe('0123456789');
    const error = await readRegularFile(file, 9, { follow: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RefusedFileError);
    expect((error as RefusedFileError).reason).toBe('10 bytes, over the 9 bytes limit');
  });

  test('a file that grows past the limit while read is refused, never read whole', async () => {
    const temp = await tempDir();
    const file = await temp.write('growing.txt', 'small');
    const opened = await openRegularFile(file, { follow: false });
    try {
      await appendFile(file, 'x'.repeat(1000)); // after fstat said 5 bytes
      const error = await readOpenedFile(file, opened, 100).catch((caught: unknown) => caught);
      expect((error as RefusedFileError).reason).toBe('over the 100 bytes limit (it grew while being read)');
    } finally {
      await opened.handle.close();
    }
  });

  test('an empty file is read as empty', async () => {
    const temp = await tempDir();
    expect((await readRegularFile(await temp.write('empty.txt', ''), 10, { follow: false })).length).toBe(0);
  });

  test('follow: false refuses a final symlink (ELOOP); follow: true reads through it', async () => {
    const temp = await tempDir();
    await temp.write('target.txt', 'through');
    await symlink('target.txt', temp.path('link.txt'));
    await expect(readRegularFile(temp.path('link.txt'), 100, { follow: false })).rejects.toMatchObject({
      code: 'ELOOP',
    });
    expect((await readRegularFile(temp.path('link.txt'), 100, { follow: true })).toString()).toBe('through');
  });

  test('a directory is EISDIR, as reading one would be', async () => {
    const temp = await tempDir();
    await expect(readRegularFile(temp.dir, 100, { follow: true })).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
