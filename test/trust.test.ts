/**
 * The trust boundary, end to end: plugins load only from inside the root, only with the bytes the
 * config's integrity names, those bytes are the ones that run (also after a crash), a plugin's
 * environment is its own, and messages a plugin posts on its own change nothing.
 */
import { symlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { GleanError, GleanOptions } from '@glean/core';
import { hashForIntegrity } from '../packages/core/src/integrity.js';
import { startGlean } from './helpers/glean.js';
import { configMap, nextEvent, onCleanup, tempDir, threadsBackTo, type TempDir } from './helpers/index.js';

const plugin = (tag: string): string =>
  `export const Tag = () => '${tag}';\nexport const Exit = () => process.exit(1);\n`;
const sri = (text: string): string => hashForIntegrity(Buffer.from(text));

async function expectRefused(
  temp: TempDir,
  entries: object[],
  code: string,
  options: GleanOptions = {},
): Promise<void> {
  const { glean, baseline } = await startGlean({
    temp,
    configName: 'app/plugin.json',
    config: entries,
    load: false,
    ...options,
  });
  await expect(glean.loadConfig()).rejects.toMatchObject({ code });
  await threadsBackTo(baseline);
}

describe('root confinement', () => {
  it('refuses a plugin path that climbs out of the config folder, and loads nothing', async () => {
    const temp = await tempDir();
    await temp.write('outside.mjs', plugin('outside'));
    await temp.write('app/inside.mjs', plugin('inside'));
    await expectRefused(
      temp,
      [
        { id: 'In', file: 'inside.mjs', name: 'Tag' },
        { id: 'Out', file: '../outside.mjs', name: 'Tag' },
      ],
      'GLEAN_OUTSIDE_ROOT',
    );
  });

  it('refuses an absolute path elsewhere and a symlink inside that points out', async () => {
    const temp = await tempDir();
    await temp.write('outside.mjs', plugin('outside'));
    await expectRefused(temp, [{ id: 'Abs', file: temp.path('outside.mjs'), name: 'Tag' }], 'GLEAN_OUTSIDE_ROOT');
    await symlink(temp.path('outside.mjs'), temp.path('app/link.mjs'));
    await expectRefused(temp, [{ id: 'Link', file: 'link.mjs', name: 'Tag' }], 'GLEAN_OUTSIDE_ROOT');
  });

  it('keeps the old version serving when a reload points outside the root', async () => {
    const temp = await tempDir();
    await temp.write('outside.mjs', plugin('outside'));
    await temp.write('app/inside.mjs', plugin('inside'));
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: [{ id: 'T', file: 'inside.mjs', name: 'Tag' }],
    });
    const tag = await glean.reloadAndWatch<() => string>('T');
    await temp.write('app/plugin.json', [{ id: 'T', file: '../outside.mjs', name: 'Tag' }]);
    const failed = nextEvent<GleanError>(glean, 'error');
    await expect(glean.reloadConfig()).rejects.toMatchObject({ code: 'GLEAN_OUTSIDE_ROOT', id: 'T' });
    await failed;
    expect(await tag()).toBe('inside');
  });

  it('loads from a wider root when one is given', async () => {
    const temp = await tempDir();
    await temp.write('shared/outside.mjs', plugin('shared'));
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: [{ id: 'T', file: '../shared/outside.mjs', name: 'Tag' }],
      root: temp.dir,
    });
    expect(await (await glean.reloadAndWatch<() => string>('T'))()).toBe('shared');
  });

  it('takes the folder of a Kubernetes ConfigMap link as the default root, so files behind ..data load', async () => {
    const temp = await tempDir();
    const map = await configMap(temp, [{ id: 'T', file: 'tag.mjs', name: 'Tag' }]);
    // ConfigMap keys are files beside plugin.json, themselves links into ..data.
    await temp.write('..2026_11_28_0000/tag.mjs', plugin('from the map'));
    await symlink('..data/tag.mjs', temp.path('tag.mjs'));
    const { glean } = await startGlean({ temp, configPath: map.configPath });
    expect(await (await glean.reloadAndWatch<() => string>('T'))()).toBe('from the map');
  });
});

describe('integrity', () => {
  it('loads a plugin whose bytes match its integrity, and refuses one that does not', async () => {
    const temp = await tempDir();
    await temp.write('app/tag.mjs', plugin('v1'));
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: [{ id: 'T', file: 'tag.mjs', name: 'Tag', integrity: sri(plugin('v1')) }],
    });
    expect(await (await glean.reloadAndWatch<() => string>('T'))()).toBe('v1');
    await expectRefused(
      temp,
      [{ id: 'T', file: 'tag.mjs', name: 'Tag', integrity: sri(plugin('other')) }],
      'GLEAN_INTEGRITY_MISMATCH',
    );
  });

  it('catches a plugin file swapped between two reloads, and keeps the checked version serving', async () => {
    const temp = await tempDir();
    await temp.write('app/tag.mjs', plugin('v1'));
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: [{ id: 'T', file: 'tag.mjs', name: 'Tag', integrity: sri(plugin('v1')) }],
    });
    const tag = await glean.reloadAndWatch<() => string>('T');
    await temp.write('app/tag.mjs', plugin('tampered'));
    const failed = nextEvent<GleanError>(glean, 'error');
    await expect(glean.reloadConfig()).rejects.toMatchObject({ code: 'GLEAN_INTEGRITY_MISMATCH', id: 'T' });
    expect((await failed).message).toContain(sri(plugin('v1')));
    expect(await tag()).toBe('v1');
  });

  const typed = (tag: string): string =>
    `export const Tag = (): string => '${tag}';\nexport const Exit = (): never => process.exit(1);\n`;
  it.each([
    ['an ES module', 'tag.mjs', plugin],
    [
      'a CommonJS module',
      'tag.cjs',
      (tag: string): string => `module.exports = { Tag: () => '${tag}', Exit: () => process.exit(1) };\n`,
    ],
    ['a TypeScript ES module (.mts)', 'tag.mts', typed],
    ['a TypeScript ES module (.ts, "type": "module")', 'esm/tag.ts', typed],
    // The host compiles every TypeScript module itself, CommonJS too: pinned like the rest.
    ['a CommonJS TypeScript module (.cts)', 'tag.cts', typed],
    ['a TypeScript file outside "type": "module" (.ts)', 'tag.ts', typed],
  ])(
    'restarts a crashed worker of %s on the checked bytes, not on a file changed since',
    async (_kind, file, source) => {
      const temp = await tempDir();
      await temp.write('app/esm/package.json', { type: 'module' });
      await temp.write(`app/${file}`, source('v1'));
      const { glean } = await startGlean({
        temp,
        configName: 'app/plugin.json',
        config: [
          { id: 'T', file, name: 'Tag', integrity: sri(source('v1')) },
          { id: 'X', file, name: 'Exit', integrity: sri(source('v1')) },
        ],
      });
      const tag = await glean.reloadAndWatch<() => string>('T');
      const exit = await glean.reloadAndWatch<() => never>('X');
      expect(await tag()).toBe('v1');
      await temp.write(`app/${file}`, source('tampered'));
      const crashed = nextEvent(glean, 'crash');
      await expect(exit()).rejects.toMatchObject({ code: 'GLEAN_PLUGIN_CRASHED' });
      await crashed;
      expect(await tag()).toBe('v1');
      expect(glean.status()['T']!.restarts).toBe(1);
    },
  );

  it('refuses a plugin without integrity under requireIntegrity', async () => {
    const temp = await tempDir();
    await temp.write('app/tag.mjs', plugin('v1'));
    await expectRefused(temp, [{ id: 'T', file: 'tag.mjs', name: 'Tag' }], 'GLEAN_INTEGRITY_REQUIRED', {
      requireIntegrity: true,
    });
  });
});

describe("a plugin's environment", () => {
  const ENV_PLUGIN = `
export const Read = (name) => process.env[name] ?? null;
export const Write = (name, value) => { process.env[name] = value; return process.env[name]; };
`;

  it('is a copy of the host variables by default: changes cross in neither direction', async () => {
    const temp = await tempDir();
    await temp.write('app/env.mjs', ENV_PLUGIN);
    process.env['GLEAN_TEST_HOST'] = 'from host';
    onCleanup(() => delete process.env['GLEAN_TEST_HOST']);
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: [
        { id: 'Read', file: 'env.mjs', name: 'Read' },
        { id: 'Write', file: 'env.mjs', name: 'Write' },
        { id: 'Other', file: 'env.mjs', name: 'Read', version: 'another version, other workers' },
      ],
    });
    const read = await glean.reloadAndWatch<(name: string) => string | null>('Read');
    const write = await glean.reloadAndWatch<(name: string, value: string) => string>('Write');
    const other = await glean.reloadAndWatch<(name: string) => string | null>('Other');
    expect(await read('GLEAN_TEST_HOST')).toBe('from host');
    expect(await write('GLEAN_TEST_PLUGIN', 'from plugin')).toBe('from plugin');
    expect(process.env['GLEAN_TEST_PLUGIN']).toBeUndefined();
    expect(await other('GLEAN_TEST_PLUGIN')).toBeNull();
    process.env['GLEAN_TEST_HOST'] = 'changed later';
    expect(await read('GLEAN_TEST_HOST')).toBe('from host');
  });

  it('is empty with env "none", and exactly the given variables with an object', async () => {
    const temp = await tempDir();
    await temp.write('app/env.mjs', ENV_PLUGIN);
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: [
        { id: 'None', file: 'env.mjs', name: 'Read', env: 'none' },
        { id: 'Given', file: 'env.mjs', name: 'Read', env: { ONLY: 'this' } },
      ],
    });
    const none = await glean.reloadAndWatch<(name: string) => string | null>('None');
    const given = await glean.reloadAndWatch<(name: string) => string | null>('Given');
    expect(await none('PATH')).toBeNull();
    expect(await given('ONLY')).toBe('this');
    expect(await given('PATH')).toBeNull();
  });
});

describe("glean's own messages", () => {
  it('ignore what a plugin posts on its own: forged hellos and results change nothing', async () => {
    const temp = await tempDir();
    await temp.write(
      'app/forge.mjs',
      `import { parentPort } from 'node:worker_threads';
export function Forge() {
  parentPort.postMessage({ type: 'hello', threadId: 424242 });
  parentPort.postMessage({ type: 'result', id: 1, value: 'forged' });
  parentPort.postMessage([1, 'forged']);
  parentPort.postMessage([2, 'forged']);
  parentPort.postMessage({ type: 'error', id: 2, error: { reason: 'not-found', message: 'forged', available: [] } });
  return 'real';
}`,
    );
    const { glean } = await startGlean({
      temp,
      configName: 'app/plugin.json',
      config: [{ id: 'F', file: 'forge.mjs', name: 'Forge' }],
    });
    const forge = await glean.reloadAndWatch<() => string>('F');
    const threadId = glean.status()['F']!.threads[0]!.threadId;
    const answers = await Promise.all([forge(), forge(), forge()]);
    expect(answers).toEqual(['real', 'real', 'real']);
    expect(glean.status()['F']!.threads[0]!.threadId).toBe(threadId);
    expect(glean.status()['F']!.errors).toBe(0);
  });
});
