/**
 * The lockfile (glean.lock.json, written by `npx glean lock`): every plugin-owned module, not only a
 * plugin file, runs only with the bytes it lists, at every load, restart and dynamic import; a module
 * it does not list is refused, and so is a helper under `requireIntegrity` with no lockfile.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type GleanError } from '@glean/core';
import { hashForIntegrity } from '@glean/core/integrity';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';
import { nextEvent, tempDir, type TempDir } from './helpers/index.js';

const GLEAN = fileURLToPath(new URL('../packages/core/bin/glean.js', import.meta.url));

/** Runs `glean` with `args` in `cwd`: its exit code and output. */
function glean(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [GLEAN, ...args], { cwd, encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

const INDEX = [
  "import { fmt } from './lib/fmt.ts';",
  'export const hello = (name: string): string => fmt(name);',
  "export const later = async (): Promise<string> => (await import('./lib/later.ts')).later;",
].join('\n');
const fmt = (greeting: string): string => `export const fmt = (name: string): string => '${greeting}, ' + name;\n`;
const LATER = "export const later = 'later';\n";

/** A plugin of three modules, and its config, in a fresh folder. */
async function plugin(): Promise<TempDir> {
  const temp = await tempDir();
  await temp.write('p/index.ts', INDEX);
  await temp.write('p/lib/fmt.ts', fmt('Hello'));
  await temp.write('p/lib/later.ts', LATER);
  await temp.write('plugin.json', [
    { id: 'Hello', file: 'p/index.ts', name: 'hello' },
    { id: 'Later', file: 'p/index.ts', name: 'later' },
  ]);
  return temp;
}

const sri = (text: string): string => hashForIntegrity(Buffer.from(text));

describe('npx glean lock', () => {
  it('writes glean.lock.json beside the config: every module the plugins loaded, by path from the root, and the ones named with --add', async () => {
    const temp = await plugin();
    const outcome = await glean(['lock', 'plugin.json', '--add', 'p/lib/later.ts'], temp.dir);
    expect(outcome).toEqual({ code: 0, stdout: `wrote ${temp.path('glean.lock.json')}: 3 modules\n`, stderr: '' });
    expect(JSON.parse(readFileSync(temp.path('glean.lock.json'), 'utf8'))).toEqual({
      lockfileVersion: 1,
      modules: { 'p/index.ts': sri(INDEX), 'p/lib/fmt.ts': sri(fmt('Hello')), 'p/lib/later.ts': sri(LATER) },
    });
  });

  it('exits 1 saying why when the plugins do not load, and writes nothing', async () => {
    const temp = await plugin();
    await temp.write('p/lib/fmt.ts', 'export const fmt = (;\n');
    const outcome = await glean(['lock', 'plugin.json'], temp.dir);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/^glean: lock: .*cannot compile .*fmt\.ts/);
    expect(() => readFileSync(temp.path('glean.lock.json'))).toThrow(/ENOENT/);
  });
});

describe('a Glean with a lockfile', () => {
  it('runs the modules it lists, and refuses a helper whose bytes changed: the reload rejects GLEAN_INTEGRITY_MISMATCH and the old version serves on', async () => {
    const temp = await plugin();
    expect((await glean(['lock', 'plugin.json', '--add', 'p/lib/later.ts'], temp.dir)).code).toBe(0);
    const { glean: g } = await startGlean({ temp, config: JSON.parse(readFileSync(temp.path('plugin.json'), 'utf8')) });
    const hello = await g.reloadAndWatch<(name: string) => string>('Hello');
    expect(await hello('gp')).toBe('Hello, gp');

    await temp.write('p/lib/fmt.ts', fmt('Pwned'));
    const failed = nextEvent<GleanError>(g, 'error');
    const error = await rejectionOf(g.reloadConfig());
    expect(error).toMatchObject({ code: ErrorCode.INTEGRITY_MISMATCH, file: temp.path('p/lib/fmt.ts') });
    expect(error.message).toContain(`expected ${sri(fmt('Hello'))} (${temp.path('glean.lock.json')})`);
    expect(await failed).toBe(error);
    expect(await hello('gp')).toBe('Hello, gp');

    // Locked again over the new bytes, the change applies.
    expect((await glean(['lock', 'plugin.json', '--add', 'p/lib/later.ts'], temp.dir)).code).toBe(0);
    await g.reloadConfig();
    expect(await hello('gp')).toBe('Pwned, gp');
  });

  it('refuses a module it does not list, imported later by a call: the import rejects GLEAN_INTEGRITY_REQUIRED, and the version serves on', async () => {
    const temp = await plugin();
    expect((await glean(['lock', 'plugin.json'], temp.dir)).code).toBe(0);
    const { glean: g } = await startGlean({ temp, config: JSON.parse(readFileSync(temp.path('plugin.json'), 'utf8')) });
    const later = await g.reloadAndWatch<() => string>('Later');
    const error = await rejectionOf(later(), Error);
    expect(error).toMatchObject({ code: ErrorCode.INTEGRITY_REQUIRED });
    expect(error.message).toContain(`does not list it (as "p/lib/later.ts")`);
    expect(await (await g.reloadAndWatch<(name: string) => string>('Hello'))('gp')).toBe('Hello, gp');
  });

  it('refuses a plugin file it does not list at load: GLEAN_INTEGRITY_REQUIRED, nothing running', async () => {
    const temp = await plugin();
    await temp.write('glean.lock.json', { lockfileVersion: 1, modules: { 'p/lib/fmt.ts': sri(fmt('Hello')) } });
    const { glean: g } = await startGlean({
      temp,
      config: [{ id: 'Hello', file: 'p/index.ts', name: 'hello' }],
      load: false,
    });
    expect(await rejectionOf(g.loadConfig())).toMatchObject({ code: ErrorCode.INTEGRITY_REQUIRED, id: 'Hello' });
  });

  it('is not a lockfile when malformed: loadConfig() rejects GLEAN_CONFIG_INVALID naming it', async () => {
    const temp = await plugin();
    await temp.write('glean.lock.json', { lockfileVersion: 1, modules: { 'p/index.ts': 'md5-abc' } });
    const { glean: g } = await startGlean({
      temp,
      config: [{ id: 'Hello', file: 'p/index.ts', name: 'hello' }],
      load: false,
    });
    const error = await rejectionOf(g.loadConfig());
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.message).toContain(`the lockfile ${temp.path('glean.lock.json')} is not a glean lockfile`);
  });

  it('is not read with lockfile: false', async () => {
    const temp = await plugin();
    await temp.write('glean.lock.json', { lockfileVersion: 1, modules: {} });
    const { glean: g } = await startGlean({
      temp,
      config: [{ id: 'Hello', file: 'p/index.ts', name: 'hello' }],
      lockfile: false,
    });
    expect(await (await g.reloadAndWatch<(name: string) => string>('Hello'))('gp')).toBe('Hello, gp');
  });
});

describe('requireIntegrity without a lockfile', () => {
  it('refuses a helper of a plugin whose file has its own integrity: GLEAN_INTEGRITY_REQUIRED naming the helper', async () => {
    const temp = await tempDir();
    await temp.write('p/index.ts', INDEX);
    await temp.write('p/lib/fmt.ts', fmt('Hello'));
    const { glean: g } = await startGlean({
      temp,
      config: [{ id: 'Hello', file: 'p/index.ts', name: 'hello', integrity: sri(INDEX) }],
      requireIntegrity: true,
      load: false,
    });
    const error = await rejectionOf(g.loadConfig());
    expect(error).toMatchObject({ code: ErrorCode.INTEGRITY_REQUIRED, file: temp.path('p/lib/fmt.ts') });
    expect(error.message).toContain('requireIntegrity is on and no lockfile lists it');
  });

  it('runs a one-file plugin with its own integrity, as before', async () => {
    const temp = await tempDir();
    const source = "export const hello = (name: string): string => 'Hi, ' + name;\n";
    await temp.write('p/index.ts', source);
    const { glean: g } = await startGlean({
      temp,
      config: [{ id: 'Hello', file: 'p/index.ts', name: 'hello', integrity: sri(source) }],
      requireIntegrity: true,
    });
    expect(await (await g.reloadAndWatch<(name: string) => string>('Hello'))('gp')).toBe('Hi, gp');
  });
});

describe('a lockfile in a Kubernetes ConfigMap layout', () => {
  it("keys modules by the root's own links (plugins/…), so a lockfile written in a flat folder holds across ConfigMap updates", async () => {
    const flat = await plugin();
    expect((await glean(['lock', 'plugin.json', '--add', 'p/lib/later.ts'], flat.dir)).code).toBe(0);
    const lock = JSON.parse(readFileSync(flat.path('glean.lock.json'), 'utf8')) as { modules: object };
    expect(Object.keys(lock.modules).sort()).toEqual(['p/index.ts', 'p/lib/fmt.ts', 'p/lib/later.ts']);

    // The same files, mounted as a ConfigMap does: p -> ..data/p, ..data -> ..2026_…_0 (then _1).
    const mount = await tempDir();
    const publish = async (stamp: string): Promise<void> => {
      await mount.write(`${stamp}/p/index.ts`, INDEX);
      await mount.write(`${stamp}/p/lib/fmt.ts`, fmt('Hello'));
      await mount.write(`${stamp}/p/lib/later.ts`, LATER);
      await mount.write(`${stamp}/plugin.json`, [{ id: 'Hello', file: 'p/index.ts', name: 'hello' }]);
      symlinkSync(stamp, mount.path('..data_tmp'));
      renameSync(mount.path('..data_tmp'), mount.path('..data'));
    };
    await publish('..2026_12_01_0');
    symlinkSync('..data/p', mount.path('p'));
    symlinkSync('..data/plugin.json', mount.path('plugin.json'));
    copyFileSync(flat.path('glean.lock.json'), mount.path('glean.lock.json'));

    const { glean: g } = await startGlean({ temp: mount, configPath: mount.path('plugin.json'), load: false });
    await g.loadConfig();
    const hello = await g.reloadAndWatch<(name: string) => string>('Hello');
    expect(await hello('gp')).toBe('Hello, gp');
    await publish('..2026_12_01_1');
    await g.reloadConfig();
    expect(await hello('gp')).toBe('Hello, gp');
    expect(g.status()['Hello']!.lastError).toBeUndefined();
  });
});
