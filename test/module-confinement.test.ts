/**
 * A plugin's own modules load only from inside its root once symlinks are followed: a link that
 * leads outside, or a relative import that climbs out, is `GLEAN_OUTSIDE_ROOT` naming the importing
 * file and the specifier, and no byte from outside runs. A link swapped to lead outside after the
 * version loaded changes nothing the version runs: a restarted worker gets the version's own bytes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { CrashEvent } from '@glean/core';
import { hashForIntegrity } from '@glean/core/integrity';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';
import { nextEvent, rename, symlink, tempDir, until, type TempDir } from './helpers/index.js';

/**
 * The test folder holds the plugin root app/ (its config app/plugin.json) and, beside it and so
 * outside the root, outside.js: should it ever run, it writes the marker file and tags its answers.
 */
async function layout(): Promise<{ temp: TempDir; outside: string; marker: string; ranOutside: () => boolean }> {
  const temp = await tempDir();
  const marker = temp.path('outside-ran');
  const outside = await temp.write(
    'outside.js',
    [
      "import { writeFileSync } from 'node:fs';",
      `writeFileSync(${JSON.stringify(marker)}, 'ran');`,
      "export const tag = () => 'outside';",
      "export const Api = { tag: () => 'outside', exit: () => 'outside' };",
    ].join('\n'),
  );
  await temp.write('package.json', { type: 'module' });
  await temp.write('app/package.json', { type: 'module' });
  return { temp, outside, marker, ranOutside: () => existsSync(marker) };
}

/** Points the symlink at `relative` to `target`, atomically (a new link renamed over the old one). */
async function relink(temp: TempDir, relative: string, target: string): Promise<void> {
  const next = temp.path(`${relative}.next`);
  await symlink(target, next);
  await rename(next, temp.path(relative));
}

describe('a module outside the root', () => {
  it.each([
    [
      // The host answers the static graph ahead: the refusal still names the importer two imports deep.
      'a statically imported helper two imports deep that leads outside',
      {
        files: {
          'app/index.mjs': "import { tag } from './lib/first.mjs';\nexport const Tag = () => tag();\n",
          'app/lib/first.mjs': "import { tag } from './second.js';\nexport { tag };\n",
          'app/lib/sibling.mjs': 'export const sibling = 1;\n',
        },
        link: 'app/lib/second.js',
        importer: 'app/lib/first.mjs',
        specifier: './second.js',
      },
    ],
    [
      'a symlink inside the root leading outside (lib/helper.js -> ../outside.js)',
      {
        files: {
          'app/index.mjs': "import { tag } from './lib/helper.js';\nexport const Tag = () => tag();\n",
          'app/lib/.keep': '',
        },
        link: 'app/lib/helper.js',
        importer: 'app/index.mjs',
        specifier: './lib/helper.js',
      },
    ],
  ] as const)(
    '%s: the load is GLEAN_OUTSIDE_ROOT naming the importer and the specifier; no byte from outside runs',
    async (_what, { files, link, importer, specifier }) => {
      const { temp, outside, ranOutside } = await layout();
      for (const [path, text] of Object.entries(files)) await temp.write(path, text);
      await symlink(outside, temp.path(link));
      const { glean } = await startGlean({
        temp,
        configName: 'app/plugin.json',
        config: [{ id: 'T', file: 'index.mjs', name: 'Tag' }],
        load: false,
      });
      const error = await rejectionOf(glean.loadConfig());
      expect(error.code).toBe('GLEAN_OUTSIDE_ROOT');
      expect(error.message).toContain(`${temp.path(importer)} imports "${specifier}"`);
      expect(error.message).toContain(`outside the plugin root ${temp.path('app')}`);
      expect(ranOutside()).toBe(false);
      expect(glean.status()).toEqual({});
    },
  );

  it("a dynamic import('../../outside.js') climbing out of the root: GLEAN_OUTSIDE_ROOT naming the importer and the specifier, and the version serves on", async () => {
    const { temp, ranOutside } = await layout();
    await temp.write(
      'app/plugin/index.mjs',
      [
        "export const climb = () => import('../../outside.js').then((m) => m.tag());",
        'export const caught = () => climb().catch((error) => error.code);',
        "export const alive = () => 'alive';",
      ].join('\n'),
    );
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: ['climb', 'caught', 'alive'].map((name) => ({ id: name, file: 'plugin/index.mjs', name })),
    });
    const climb = await glean.reloadAndWatch<() => string>('climb');
    const error = await rejectionOf(climb(), Error);
    expect(error.code).toBe('GLEAN_OUTSIDE_ROOT');
    expect(error.message).toContain(`${temp.path('app/plugin/index.mjs')} imports "../../outside.js"`);
    expect(await (await glean.reloadAndWatch<() => string>('caught'))()).toBe('GLEAN_OUTSIDE_ROOT');
    expect(await (await glean.reloadAndWatch<() => string>('alive'))()).toBe('alive');
    expect(glean.status()['alive']!.restarts).toBe(0);
    expect(ranOutside()).toBe(false);
  });
});

describe('a symlink swapped to lead outside after the version loaded', () => {
  const INDEX = [
    "import { tag } from './lib/helper.js';",
    'export const Api = { tag: () => tag(), exit: () => process.exit(1) };',
  ].join('\n');

  it.each([
    ['lib/helper.js, a helper', false],
    ['lib/helper.js, a helper', true],
    ['index.mjs, the plugin file', false],
    ['index.mjs, the plugin file', true],
  ])(
    "%s (integrity on the entry: %s): a restarted worker runs the version's own bytes; reloadConfig() refuses GLEAN_OUTSIDE_ROOT",
    async (what, integrity) => {
      const { temp, outside, ranOutside } = await layout();
      const link = what.startsWith('index') ? 'app/index.mjs' : 'app/lib/helper.js';
      await temp.write('app/real-index.mjs', INDEX);
      await temp.write('app/lib/real-helper.js', "export const tag = () => 'inside';\n");
      await symlink('real-index.mjs', temp.path('app/index.mjs'));
      await symlink('real-helper.js', temp.path('app/lib/helper.js'));
      const entry = {
        id: 'Api',
        file: 'index.mjs',
        name: 'Api',
        ...(integrity && { integrity: hashForIntegrity(await readFile(temp.path('app/real-index.mjs'))) }),
      };
      const { glean } = await startGlean({ temp, configName: 'app/plugin.json', config: [entry] });
      const api = await glean.reloadAndWatch<{ tag(): string; exit(): never }>('Api');
      expect(await api.tag()).toBe('inside');
      const before = glean.status()['Api']!;

      await relink(temp, link, outside);
      const crashed = nextEvent<CrashEvent>(glean, 'crash');
      expect((await rejectionOf(api.exit())).code).toBe('GLEAN_PLUGIN_CRASHED');
      expect(await crashed).toMatchObject({ restarting: true });
      await until(() => {
        const status = glean.status()['Api']!;
        return status.restarts === 1 && status.threads.length === 1 && status.threads[0]!.ready;
      }, 'the replacement worker to load');
      expect(await api.tag()).toBe('inside');
      expect(glean.status()['Api']!.graphHash).toBe(before.graphHash);

      const refused = await rejectionOf(glean.reloadConfig());
      expect(refused.code).toBe('GLEAN_OUTSIDE_ROOT');
      expect(await api.tag()).toBe('inside');
      expect(ranOutside()).toBe(false);
    },
  );
});
