import { describe, expect, it } from 'vitest';
import type { Glean, GleanError, ReloadEvent } from '@glean/core';
import { configMap, nextEvent, tempDir, threadCount, threadsBackTo, until, type TempDir } from './helpers/index.js';
import { gleanOver, startGlean } from './helpers/glean.js';
import { hashForIntegrity } from '@glean/core/integrity';

const plugin = (tag: string): string => `export const Greet = (name) => '${tag}:' + name;\n`;
const entry = (file: string): object[] => [{ id: 'G', file, name: 'Greet' }];

/** fs watch handles of this process: chokidar's watches show up as FSEventWrap. */
const fsWatches = (): number => process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap').length;

async function watching(
  configPath: string,
  options: ConstructorParameters<typeof Glean>[1] = {},
): Promise<{ glean: Glean; greet: (name: string) => Promise<string> }> {
  const glean = gleanOver(configPath, { watch: true, ...options });
  await glean.loadConfig();
  return { glean, greet: await glean.reloadAndWatch<(name: string) => Promise<string>>('G') };
}

/** Makes `write` change the config to point at `file`, waits for the reload, and checks the answer. */
async function expectSwap(
  glean: Glean,
  greet: (name: string) => Promise<string>,
  write: () => Promise<unknown>,
  tag: string,
): Promise<void> {
  const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
  await write();
  await reloaded;
  // An in-place save can raise two changes: the reload seen may be the previous write's second one.
  await until(async () => (await greet('x')) === `${tag}:x`, `the handle to answer ${tag}:x`);
}

async function plugins(temp: TempDir): Promise<void> {
  for (const tag of ['one', 'two', 'three', 'four']) await temp.write(`${tag}.mjs`, plugin(tag));
}

describe('watching the config file', () => {
  it('reloads on every in-place write of the config', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    for (const tag of ['two', 'three', 'four'])
      await expectSwap(glean, greet, () => temp.write('plugin.json', entry(`${tag}.mjs`)), tag);
  });

  it('reloads on every save that renames a temp file over the config, as editors do', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    for (const tag of ['two', 'three', 'four'])
      await expectSwap(glean, greet, () => temp.replace('plugin.json', entry(`${tag}.mjs`)), tag);
  });

  it('reloads on every Kubernetes ConfigMap swap of ..data, resolving plugin files against the link folder', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const map = await configMap(temp, entry('one.mjs'));
    const { glean, greet } = await watching(map.configPath);
    expect(await greet('x')).toBe('one:x');
    for (const tag of ['two', 'three', 'four'])
      await expectSwap(glean, greet, () => map.swap(entry(`${tag}.mjs`)), tag);
  });

  it('reports a half-written config as an error, keeps serving, and applies the write that completes it', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    const failed = nextEvent<GleanError>(glean, 'error');
    await temp.write('plugin.json', '[{ "id": "G", "file": "two.m');
    expect(await failed).toMatchObject({ code: 'GLEAN_CONFIG_INVALID' });
    expect(await greet('x')).toBe('one:x');
    await expectSwap(glean, greet, () => temp.write('plugin.json', entry('two.mjs')), 'two');
  });
});

describe('a config found empty', () => {
  it.each([
    [
      'the config',
      'plugin.json',
      { code: 'GLEAN_CONFIG_INVALID', issues: [{ code: 'empty-file', message: 'the file is empty' }] },
      entry('two.mjs'),
      'two',
    ],
    [
      'a plugin file, reported then as an empty module is',
      'one.mjs',
      { code: 'GLEAN_SYMBOL_NOT_FOUND' },
      plugin('fixed'),
      'fixed',
    ],
  ])(
    '%s: read again before it is reported when the watcher found it empty, since a file written in place is for a moment',
    async (_what, file, expected, fixed, tag) => {
      const temp = await tempDir();
      await plugins(temp);
      const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')), { debounceMs: 0 });
      const errors: GleanError[] = [];
      glean.on('error', (error) => errors.push(error));
      const reported = nextEvent<GleanError>(glean, 'error');
      const written = Date.now();
      // Several events while it is empty, as one save can raise: each read finds it empty, none reports it early.
      for (let i = 0; i < 5; i++) await temp.write(file, '');
      const error = await reported;
      expect(error).toMatchObject(expected);
      // Held back: the report follows the read 50 ms after the first found the file empty (a lower bound, not speed).
      expect(Date.now() - written).toBeGreaterThanOrEqual(50);
      expect(await greet('x')).toBe('one:x');
      // Once a valid write has been applied, the empty moment was reported once and only once.
      await expectSwap(glean, greet, () => temp.write(file, fixed), tag);
      expect(errors).toEqual([error]);
    },
  );

  it('rejects reloadConfig() and is reported at once, since the caller asked for this read', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const { glean } = await startGlean({ temp, config: entry('one.mjs') });
    const errors: GleanError[] = [];
    glean.on('error', (error) => errors.push(error));
    await temp.write('plugin.json', '');
    const rejected = await glean.reloadConfig().catch((error: GleanError) => error);
    expect(rejected).toMatchObject({ code: 'GLEAN_CONFIG_INVALID' });
    expect(errors).toEqual([rejected]);
  });
});

describe('watching plugin files', () => {
  // A plugin file, one with integrity (whose empty bytes would read as a mismatch), and a helper it imports.
  it.each([
    { what: 'a plugin file', integrity: false, file: 'one.mjs' },
    { what: 'a plugin file with integrity', integrity: true, file: 'one.mjs' },
    { what: 'a helper the plugin file imports', integrity: false, file: 'helper.mjs' },
  ])(
    'reloads $what emptied and then written in place, with no error for the moment it was empty',
    async ({ integrity, file }) => {
      const temp = await tempDir();
      await plugins(temp);
      await temp.write('helper.mjs', "export const tag = 'one';\n");
      await temp.write(
        'via.mjs',
        "import { tag } from './helper.mjs';\nexport const Greet = (name) => tag + ':' + name;\n",
      );
      const rewritten = file === 'helper.mjs' ? "export const tag = 'rewritten';\n" : plugin('rewritten');
      const hashes = [plugin('one'), rewritten].map((text) => hashForIntegrity(Buffer.from(text))).join(' ');
      const config = [
        {
          id: 'G',
          file: file === 'helper.mjs' ? 'via.mjs' : 'one.mjs',
          name: 'Greet',
          ...(integrity ? { integrity: hashes } : {}),
        },
      ];
      const { glean, greet } = await watching(await temp.write('plugin.json', config));
      const errors: GleanError[] = [];
      glean.on('error', (error) => errors.push(error));
      const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
      // Several events while it is empty, as a slow save can raise.
      for (let i = 0; i < 5; i++) await temp.write(file, '');
      await temp.write(file, rewritten);
      await reloaded;
      expect(await greet('x')).toBe('rewritten:x');
      expect(errors).toEqual([]);
      expect(glean.status()['G']?.lastError).toBeUndefined();
    },
  );

  it('reloads when a plugin file is written in place or renamed over', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    await expectSwap(glean, greet, () => temp.write('one.mjs', plugin('edited')), 'edited');
    await expectSwap(glean, greet, () => temp.replace('one.mjs', plugin('saved')), 'saved');
  });

  it('watches the file a change points the id at, and no longer the one it left', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    await expectSwap(glean, greet, () => temp.write('plugin.json', entry('two.mjs')), 'two');
    await expectSwap(glean, greet, () => temp.write('two.mjs', plugin('two-edited')), 'two-edited');
  });

  it('leaves plugin edits to reloadConfig() with watchFiles: false', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')), { watchFiles: false });
    await temp.write('one.mjs', plugin('edited'));
    // Had the watcher reloaded on the edit, reloadConfig() would find nothing new and no reload event would come.
    await expectSwap(glean, greet, () => glean.reloadConfig(), 'edited');
  });
});

describe('close()', () => {
  it('stops every watch and every worker', async () => {
    const temp = await tempDir();
    await plugins(temp);
    const threads = threadCount();
    const watches = fsWatches();
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    expect(fsWatches()).toBeGreaterThan(watches);
    expect(await greet('x')).toBe('one:x');
    await glean.close();
    await until(() => fsWatches() === watches, 'fs watches closed');
    await threadsBackTo(threads);
    await expect(glean.reloadConfig()).rejects.toMatchObject({ code: 'GLEAN_CLOSED' });
  });

  it("while the watcher's reload still loads the new version: no error event, nothing left running", async () => {
    const temp = await tempDir();
    await plugins(temp);
    await temp.write('slow.mjs', `await new Promise((resolve) => setTimeout(resolve, 300));\n${plugin('slow')}`);
    const threads = threadCount();
    const { glean } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    const errors: GleanError[] = [];
    glean.on('error', (error) => errors.push(error));
    await temp.write('plugin.json', entry('slow.mjs'));
    await until(() => glean.status()['G']?.state === 'loading', 'the new version to be loading');
    await glean.close();
    expect(errors).toEqual([]);
    await threadsBackTo(threads);
  });

  it('stops a new version whose import never finishes at once, not after its loadTimeoutMs', async () => {
    const temp = await tempDir();
    await plugins(temp);
    await temp.write('stuck.mjs', `await new Promise(() => {});\n${plugin('stuck')}`);
    const threads = threadCount();
    const { glean, greet } = await watching(await temp.write('plugin.json', entry('one.mjs')));
    const errors: GleanError[] = [];
    glean.on('error', (error) => errors.push(error));
    await temp.write('plugin.json', [{ id: 'G', file: 'stuck.mjs', name: 'Greet', loadTimeoutMs: 600_000 }]);
    await until(() => glean.status()['G']?.state === 'loading', 'the new version to be loading');
    const reload = glean.reloadConfig().catch((error: GleanError) => error);
    expect(await greet('x')).toBe('one:x');
    // Within the test's timeout: waiting for the load would take 10 minutes.
    await glean.close();
    expect(await reload).toMatchObject({ code: 'GLEAN_CLOSED' });
    expect(errors).toEqual([]);
    await threadsBackTo(threads);
  });
});
