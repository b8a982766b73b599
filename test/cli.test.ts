import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../packages/core/src/config.js';
import { verifyIntegrity } from '../packages/core/src/integrity.js';
import { tempDir } from './helpers/index.js';

const PACKAGE = fileURLToPath(new URL('../packages/core/', import.meta.url));
const manifest = JSON.parse(readFileSync(`${PACKAGE}package.json`, 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
/** The built command, as npm links it into node_modules/.bin. */
const GLEAN = fileURLToPath(new URL(manifest.bin['glean'] ?? 'missing', `file://${PACKAGE}`));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `glean` executable itself (its shebang, its mode) with `args` in `cwd`. */
function glean(args: readonly string[], cwd = process.cwd()): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(GLEAN, args, { cwd, encoding: 'utf8', timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : error.code;
      if (typeof code !== 'number') reject(error ?? new Error('no exit code'));
      else resolve({ code, stdout, stderr });
    });
  });
}

// The example of the SRI spec (https://www.w3.org/TR/SRI/#introduction).
const HELLO = "alert('Hello, world.');";
const HELLO_SHA384 = 'sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO';

describe('glean hash', () => {
  test('prints the sha384 integrity value of a file, and nothing else', async () => {
    const temp = await tempDir();
    await temp.write('hello.js', HELLO);
    expect(await glean(['hash', 'hello.js'], temp.dir)).toEqual({ code: 0, stdout: `${HELLO_SHA384}\n`, stderr: '' });
  });

  test('the value pasted into a config is valid there and matches the file', async () => {
    const temp = await tempDir();
    const file = await temp.write('plugins/hello.mjs', 'export const hello = () => "hi";\n');
    const { stdout } = await glean(['hash', file]);
    const integrity = stdout.trim();
    const config = parseConfig(
      JSON.stringify([{ id: 'Hello', file: 'plugins/hello.mjs', name: 'hello', integrity }]),
      temp.path('plugin.json'),
    );
    expect(config.plugins[0]?.options.integrity).toBe(integrity);
    expect(verifyIntegrity(await readFile(file), integrity).ok).toBe(true);
  });

  test.each([
    [['--algorithm', 'sha256'], 'sha256-'],
    [['--algorithm=sha512'], 'sha512-'],
    [['-a', 'sha384'], 'sha384-'],
  ])('with %j', async (options, prefix) => {
    const temp = await tempDir();
    await temp.write('hello.js', HELLO);
    const { code, stdout } = await glean(['hash', ...options, 'hello.js'], temp.dir);
    expect(code).toBe(0);
    expect(stdout.startsWith(prefix)).toBe(true);
    expect(verifyIntegrity(Buffer.from(HELLO), stdout.trim()).ok).toBe(true);
  });

  test('several files: one "<value>  <file>" line each, in order', async () => {
    const temp = await tempDir();
    await temp.write('a.js', HELLO);
    await temp.write('b.js', '');
    expect(await glean(['hash', 'a.js', 'b.js'], temp.dir)).toEqual({
      code: 0,
      stdout: `${HELLO_SHA384}  a.js\nsha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb  b.js\n`,
      stderr: '',
    });
  });

  test('a file that cannot be read: exit 1, the reason on stderr, the other files still hashed', async () => {
    const temp = await tempDir();
    await temp.write('a.js', HELLO);
    expect(await glean(['hash', 'nope.js'], temp.dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'glean: cannot read nope.js: ENOENT\n',
    });
    expect(await glean(['hash', 'nope.js', 'a.js', '.'], temp.dir)).toEqual({
      code: 1,
      stdout: `${HELLO_SHA384}  a.js\n`,
      stderr: 'glean: cannot read nope.js: ENOENT\nglean: cannot read .: EISDIR\n',
    });
  });
});

describe('usage', () => {
  test.each([['--help'], ['-h'], ['help'], ['hash', '--help']])(
    '%j prints the help to stdout, exit 0',
    async (...args) => {
      const { code, stdout, stderr } = await glean(args);
      expect([code, stderr]).toEqual([0, '']);
      expect(stdout).toMatch(/^Usage: glean <command> \[options\]\n/);
      expect(stdout).toContain('hash <file>...');
      expect(stdout).toContain('sha256, sha384, sha512 (default sha384)');
    },
  );

  test('no command: the help on stderr, exit 2', async () => {
    const { code, stdout, stderr } = await glean([]);
    expect([code, stdout]).toEqual([2, '']);
    expect(stderr).toMatch(/^Usage: glean/);
  });

  test('--version prints the package version', async () => {
    expect(await glean(['--version'])).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  test.each([
    [['hsh', 'a.js'], 'glean: unknown command "hsh"; the commands are "hash" and "lock"'],
    [['hash'], 'glean: hash: which file? as in "glean hash plugins/hello/index.ts"'],
    [['hash', '--algorithm', 'md5', 'a.js'], 'glean: unsupported algorithm "md5"; use sha256, sha384, sha512'],
    [['hash', '-a', 'SHA384', 'a.js'], 'glean: unsupported algorithm "SHA384"; use sha256, sha384, sha512'],
  ])('%j: exit 2 and one line saying why', async (args, message) => {
    expect(await glean(args)).toEqual({ code: 2, stdout: '', stderr: `${message}\nRun "glean --help" for usage.\n` });
  });

  test.each([[['hash', '--algo', 'sha256', 'a.js']], [['hash', '--algorithm']]])(
    '%j: a bad option is exit 2',
    async (args) => {
      const { code, stdout, stderr } = await glean(args);
      expect([code, stdout]).toEqual([2, '']);
      expect(stderr).toMatch(/^glean: .*--algo.*\nRun "glean --help" for usage\.\n$/s);
    },
  );
});

test('the bin npm links is an executable file with a node shebang, shipped with the package', () => {
  expect(manifest.bin).toEqual({ glean: './bin/glean.js' });
  expect(() => accessSync(GLEAN, constants.X_OK)).not.toThrow();
  expect(readFileSync(GLEAN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  expect((JSON.parse(readFileSync(`${PACKAGE}package.json`, 'utf8')) as { files: string[] }).files).toContain('bin');
});
