import { realpath, rename, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ErrorCode, GleanError } from '../packages/core/src/errors.js';
import { confine, isInside, readConfined } from '../packages/core/src/root.js';
import { configMap, tempDir, type TempDir } from './helpers/index.js';
import { rejectionOf } from './helpers/errors.js';

/** What to do around readConfined's `open` of a plugin file, to swap files at the worst moment. */
const swapAround: { open: { before?: () => Promise<void>; after?: () => Promise<void>; times?: number } | undefined } =
  { open: undefined };
/** The paths opened through fs.promises.open in the current test. */
const opened: string[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (path, ...rest) => {
    opened.push(String(path));
    const swap = swapAround.open;
    if (swap === undefined) return fs.open(path, ...rest);
    if (opened.length >= (swap.times ?? 1)) swapAround.open = undefined;
    await swap.before?.();
    const handle = await fs.open(path, ...rest);
    await swap.after?.();
    return handle;
  };
  return { ...fs, open };
});

afterEach(() => {
  swapAround.open = undefined;
  opened.length = 0;
});

/** A temp folder (its real path: the OS temp folder may itself be a link) holding `app/` as the root and `outside/` beside it. */
async function layout(): Promise<{ temp: TempDir; dir: string; root: string }> {
  const temp = await tempDir();
  const dir = await realpath(temp.dir);
  await temp.write('app/plugins/ok.js', 'export const ok = 1;\n');
  await temp.write('outside/evil.js', 'export const evil = 1;\n');
  return { temp, dir, root: join(dir, 'app') };
}

/** What `promise` rejected with, a GleanError of the sources this file tests. */
const rejection = (promise: Promise<unknown>): Promise<GleanError> => rejectionOf(promise, GleanError);

let toOutside: () => Promise<void>;
let toInside: () => Promise<void>;

/** The layout with app/plugins/lib/x.js ("inside") and outside/lib/x.js ("SECRET"); toOutside/toInside swap plugins/lib for a link to outside/lib and back. */
async function swappable(): Promise<{ dir: string; root: string }> {
  const { temp, dir, root } = await layout();
  await temp.write('app/plugins/lib/x.js', 'inside\n');
  await temp.write('outside/lib/x.js', 'SECRET\n');
  const at = (name: string): string => join(root, 'plugins', name);
  await symlink(join(dir, 'outside/lib'), at('lib.link'));
  toOutside = async () => {
    await rename(at('lib'), at('lib.real'));
    await rename(at('lib.link'), at('lib'));
  };
  toInside = async () => {
    await rename(at('lib'), at('lib.link'));
    await rename(at('lib.real'), at('lib'));
  };
  return { dir, root };
}

describe('isInside', () => {
  test.each([
    ['/srv/app/plugins/a.js', '/srv/app', true],
    ['/srv/app', '/srv/app', true],
    ['/srv/app/..data/plugin.js', '/srv/app', true],
    ['/srv/app/...js', '/srv/app', true],
    ['/srv/app-evil/a.js', '/srv/app', false],
    ['/srv/appendix.js', '/srv/app', false],
    ['/srv/a.js', '/srv/app', false],
    ['/srv', '/srv/app', false],
    ['/etc/passwd', '/', true],
  ])('%s inside %s: %s', (file, root, inside) => {
    expect(isInside(file, root)).toBe(inside);
  });
});

describe('confine', () => {
  test('a file inside the root resolves to its real path', async () => {
    const { root } = await layout();
    await expect(confine(join(root, 'plugins/ok.js'), root)).resolves.toBe(join(root, 'plugins/ok.js'));
  });

  test('a "../" path out of the root is refused with GLEAN_OUTSIDE_ROOT naming the file, its real path and the root', async () => {
    const { dir, root } = await layout();
    const file = join(root, 'plugins/../../outside/evil.js');
    const error = await rejection(confine(file, root, { id: 'Evil', version: '1' }));
    expect(error.code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect([error.id, error.file, error.version]).toEqual(['Evil', join(dir, 'outside/evil.js'), '1']);
    expect(error.message.replaceAll(dir, '<dir>')).toMatchInlineSnapshot(
      `"plugin "Evil" (<dir>/outside/evil.js@1): <dir>/outside/evil.js is outside the plugin root <dir>/app; plugins load only from inside it"`,
    );
  });

  test('an absolute path elsewhere is refused', async () => {
    const { root } = await layout();
    expect((await rejection(confine('/etc/hostname', root))).code).toBe(ErrorCode.OUTSIDE_ROOT);
  });

  test('a sibling folder whose name starts with the root\'s ("app-evil" next to "app") is outside', async () => {
    const { temp, dir, root } = await layout();
    await temp.write('app-evil/x.js', 'export const x = 1;\n');
    expect((await rejection(confine(join(dir, 'app-evil/x.js'), root))).code).toBe(ErrorCode.OUTSIDE_ROOT);
  });

  test('a symlinked file pointing out of the root is refused, naming where it leads', async () => {
    const { dir, root } = await layout();
    await symlink(join(dir, 'outside/evil.js'), join(root, 'plugins/link.js'));
    const error = await rejection(confine(join(root, 'plugins/link.js'), root));
    expect(error.code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect(error.message.replaceAll(dir, '<dir>')).toMatchInlineSnapshot(
      `"plugin <dir>/app/plugins/link.js: <dir>/app/plugins/link.js resolves to <dir>/outside/evil.js, outside the plugin root <dir>/app; plugins load only from inside it"`,
    );
  });

  test('a symlinked folder pointing out of the root is refused', async () => {
    const { dir, root } = await layout();
    await symlink('../../outside', join(root, 'plugins/vendor'));
    expect((await rejection(confine(join(root, 'plugins/vendor/evil.js'), root))).code).toBe(ErrorCode.OUTSIDE_ROOT);
    // The same folder reached without the link is refused too.
    expect((await rejection(confine(join(dir, 'outside/evil.js'), root))).code).toBe(ErrorCode.OUTSIDE_ROOT);
  });

  test('a symlink that stays inside the root is followed and accepted', async () => {
    const { temp, root } = await layout();
    await temp.write('app/releases/v2/plugin.js', 'export const v = 2;\n');
    await symlink('releases/v2', join(root, 'current'));
    await expect(confine(join(root, 'current/plugin.js'), root)).resolves.toBe(join(root, 'releases/v2/plugin.js'));
  });

  test('a root that is itself a symlink is compared by its real path, and named both ways when refusing', async () => {
    const { dir, root } = await layout();
    await symlink(root, join(dir, 'app-link'));
    await expect(confine(join(dir, 'app-link/plugins/ok.js'), join(dir, 'app-link'))).resolves.toBe(
      join(root, 'plugins/ok.js'),
    );
    await expect(confine(join(root, 'plugins/ok.js'), join(dir, 'app-link'))).resolves.toBe(
      join(root, 'plugins/ok.js'),
    );
    const error = await rejection(confine(join(dir, 'outside/evil.js'), join(dir, 'app-link')));
    expect(error.code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect(error.message.replaceAll(dir, '<dir>')).toContain(
      'outside the plugin root <dir>/app-link (really <dir>/app)',
    );
  });

  test("a Kubernetes ConfigMap: the root is the link's folder, and plugin files reached through ..data are inside it", async () => {
    const temp = await tempDir();
    const dir = await realpath(temp.dir);
    // The ConfigMap's files: plugin.json -> ..data/plugin.json, handler.js -> ..data/handler.js, ..data -> ..2026_11_28_0000
    const { configPath } = await configMap(temp, [{ id: 'H', file: 'handler.js', name: 'handler' }]);
    await temp.write('..2026_11_28_0000/handler.js', 'export const handler = () => 1;\n');
    await symlink('..data/handler.js', join(dir, 'handler.js'));
    const root = join(configPath, '..'); // the folder holding plugin.json as given, not the one it resolves to
    await expect(confine(join(dir, 'handler.js'), root)).resolves.toBe(join(dir, '..2026_11_28_0000/handler.js'));
    await expect(confine(join(dir, '..data/handler.js'), root)).resolves.toBe(
      join(dir, '..2026_11_28_0000/handler.js'),
    );
    // Taking the folder the config resolves to as the root would confine plugins to one generation of the ConfigMap.
    expect(await realpath(configPath)).toBe(join(dir, '..2026_11_28_0000/plugin.json'));
  });

  test('a missing file inside the root is the load error it is: GLEAN_LOAD_FAILED (ENOENT)', async () => {
    const { dir, root } = await layout();
    const error = await rejection(confine(join(root, 'plugins/nope.js'), root, { id: 'Nope' }));
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(error.message.replaceAll(dir, '<dir>')).toBe(
      'plugin "Nope" (<dir>/app/plugins/nope.js): cannot read the plugin file (ENOENT)',
    );
  });

  test('a missing file outside the root is outside the root: its existence cannot be probed', async () => {
    const { dir, root } = await layout();
    const error = await rejection(confine(join(dir, 'outside/nope.js'), root));
    expect(error.code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect(error.message.replaceAll(dir, '<dir>')).toContain(
      '<dir>/outside/nope.js (missing) is outside the plugin root <dir>/app',
    );
    expect((await rejection(confine(join(dir, 'no/such/folder/x.js'), root))).code).toBe(ErrorCode.OUTSIDE_ROOT);
  });

  test('a dangling symlink is judged by where it points', async () => {
    const { dir, root } = await layout();
    await symlink(join(dir, 'outside/gone.js'), join(root, 'plugins/out.js'));
    await symlink('gone.js', join(root, 'plugins/in.js'));
    await symlink('../../outside/sub/gone.js', join(root, 'plugins/out-relative.js'));
    const out = await rejection(confine(join(root, 'plugins/out.js'), root));
    expect(out.code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect(out.message.replaceAll(dir, '<dir>')).toContain('resolves to <dir>/outside/gone.js (missing)');
    expect((await rejection(confine(join(root, 'plugins/out-relative.js'), root))).code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect((await rejection(confine(join(root, 'plugins/in.js'), root))).code).toBe(ErrorCode.LOAD_FAILED);
  });

  test('a symlink loop is GLEAN_LOAD_FAILED (ELOOP)', async () => {
    const { root } = await layout();
    await symlink('b.js', join(root, 'plugins/a.js'));
    await symlink('a.js', join(root, 'plugins/b.js'));
    const error = await rejection(confine(join(root, 'plugins/a.js'), root));
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.message).toMatch(/cannot read the plugin file \(ELOOP\)$/);
  });

  test('a root that does not exist is GLEAN_LOAD_FAILED naming the root', async () => {
    const { dir, root } = await layout();
    const error = await rejection(confine(join(root, 'plugins/ok.js'), join(dir, 'no-root')));
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.message.replaceAll(dir, '<dir>')).toBe(
      'plugin <dir>/app/plugins/ok.js: the plugin root <dir>/no-root cannot be resolved (ENOENT)',
    );
  });

  test('a relative file resolves against the working folder', async () => {
    await expect(confine('package.json', '.')).resolves.toBe(join(await realpath('.'), 'package.json'));
  });
});

describe('readConfined', () => {
  test('returns the real path and the bytes', async () => {
    const { root } = await layout();
    await symlink('ok.js', join(root, 'plugins/alias.js'));
    const read = await readConfined(join(root, 'plugins/alias.js'), root);
    expect(read.realPath).toBe(join(root, 'plugins/ok.js'));
    expect(read.bytes.toString('utf8')).toBe('export const ok = 1;\n');
  });

  test('refuses as confine does', async () => {
    const { dir, root } = await layout();
    expect((await rejection(readConfined(join(dir, 'outside/evil.js'), root))).code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect((await rejection(readConfined(join(root, 'plugins/nope.js'), root))).code).toBe(ErrorCode.LOAD_FAILED);
  });

  test('a folder is GLEAN_LOAD_FAILED (EISDIR)', async () => {
    const { root } = await layout();
    const error = await rejection(readConfined(join(root, 'plugins'), root));
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.message).toMatch(/cannot read the plugin file \(EISDIR\)$/);
  });

  test('a folder swapped for a link out of the root between the check and the open is caught: the bytes outside are not returned', async () => {
    const { root } = await swappable();
    swapAround.open = { before: toOutside };
    const error = await rejection(readConfined(join(root, 'plugins/lib/x.js'), root));
    expect(error.code).toBe(ErrorCode.OUTSIDE_ROOT);
    expect(opened).toHaveLength(1);
  });

  test('swapped out and back around the open: the open file is not the one the path leads to now, so it is checked and read again', async () => {
    const { root } = await swappable();
    swapAround.open = { before: toOutside, after: toInside };
    const read = await readConfined(join(root, 'plugins/lib/x.js'), root);
    expect(read.bytes.toString('utf8')).toBe('inside\n');
    expect(opened).toHaveLength(2);
  });

  test('a file that keeps being swapped is GLEAN_LOAD_FAILED after three attempts', async () => {
    const { dir, root } = await swappable();
    swapAround.open = { before: toOutside, after: toInside, times: Infinity };
    const error = await rejection(readConfined(join(root, 'plugins/lib/x.js'), root));
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.message.replaceAll(dir, '<dir>')).toBe(
      'plugin <dir>/app/plugins/lib/x.js: the plugin file kept changing while it was read (3 attempts)',
    );
    expect(opened).toHaveLength(3);
  });
});
