/**
 * A version's identity covers its module graph: the plugin file, every plugin-owned module it loads,
 * and the package.json and tsconfig.json files that decide how they resolve and compile. A change to
 * any of them makes a new version (through the watcher or reloadConfig()), the reload event names what
 * changed, and until then every worker of the version, a restarted one and later dynamic imports
 * included, runs the code the version first loaded.
 */
import { describe, expect, it } from 'vitest';
import type { CrashEvent, Handle, ReloadEvent } from '@glean/core';
import { rejectionOf } from './helpers/errors.js';
import { recordEvents } from './helpers/faults.js';
import { gate } from './helpers/gate.js';
import { startGlean, type StartedGlean } from './helpers/glean.js';
import { nextEvent, tempDir, until, type TempDir } from './helpers/index.js';

/** A helper module whose export says which edit of it runs. */
const helper = (tag: string): string => `export const tag = (): string => '${tag}';\n`;

/**
 * An index.ts plugin over lib/helper.ts: `Api.tag()` answers the helper's tag; `Api.held(gate)` waits
 * at a gate (see helpers/gate.ts) and answers the tag and the worker's thread id; `Api.exit()` ends the
 * worker; `Api.later(name)` imports later/<name>.ts, which may not exist yet, and answers its `value`.
 */
const INDEX = `
import { threadId } from 'node:worker_threads';
import { tag } from './lib/helper.js';

export const Api = {
  tag: (): string => tag(),
  async held(gate: string): Promise<{ tag: string; threadId: number }> {
    const channel = new BroadcastChannel(gate);
    const opened = new Promise<void>((resolve) => {
      channel.onmessage = (event) => (event as MessageEvent).data === 'open' && resolve();
    });
    channel.postMessage('ready');
    await opened;
    channel.close();
    return { tag: tag(), threadId };
  },
  exit: (): never => process.exit(1),
  later: async (name: string): Promise<string> => (await import('./later/' + name + '.js')).value,
};
`;

interface Api {
  tag(): string;
  held(gate: string): { tag: string; threadId: number };
  exit(): never;
  later(name: string): string;
}

/** The plugin folder: index.ts, lib/helper.ts tagged `v1`, a package.json and a tsconfig.json. */
async function writePlugin(temp: TempDir): Promise<void> {
  await temp.write('index.ts', INDEX);
  await temp.write('lib/helper.ts', helper('v1'));
  await temp.write('package.json', { type: 'module' });
  await temp.write('tsconfig.json', { compilerOptions: { strict: true } });
}

/** A Glean over the plugin (`watch` off unless asked, other options on its config entry), its live handle, and every reload event. */
async function start({
  watch = false,
  ...entryOptions
}: {
  watch?: boolean;
  threads?: number;
  concurrency?: number;
} = {}): Promise<StartedGlean & { api: Handle<Api>; reloads: ReloadEvent[] }> {
  const temp = await tempDir();
  await writePlugin(temp);
  const started = await startGlean({
    temp,
    config: [{ id: 'Api', file: 'index.ts', name: 'Api', ...entryOptions }],
    watch,
  });
  const reloads = recordEvents(started.glean, 'reload');
  const api = await started.glean.reloadAndWatch<Api>('Api');
  return { ...started, api, reloads };
}

describe('a module of the graph changes', () => {
  it('with watch on, an edit of lib/helper.ts alone makes a new version; the reload names exactly the helper', async () => {
    const { glean, temp, api } = await start({ watch: true });
    expect(await api.tag()).toBe('v1');
    const before = glean.status()['Api']!;
    expect(before.modules).toBe(2);

    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    await temp.write('lib/helper.ts', helper('v2'));
    const event = await reloaded;
    expect(event.changed).toEqual([temp.path('lib/helper.ts')]);
    // The plugin file did not change; the graph did.
    expect(event.to.contentHash).toBe(event.from.contentHash);
    expect(event.to.graphHash).not.toBe(event.from.graphHash);
    expect(event.from.graphHash).toBe(before.graphHash);
    expect(event.to).toMatchObject({ modules: 2 });
    expect(await api.tag()).toBe('v2');
    expect(glean.status()['Api']!.graphHash).toBe(event.to.graphHash);
  });

  it('with watch off, reloadConfig() finds the helper edit and makes a new version', async () => {
    const { glean, temp, api, reloads } = await start();
    await temp.write('lib/helper.ts', helper('v2'));
    expect(await api.tag()).toBe('v1');
    await glean.reloadConfig();
    expect(reloads.map((event) => event.changed)).toEqual([[temp.path('lib/helper.ts')]]);
    expect(await api.tag()).toBe('v2');
  });

  it.each([
    ['tsconfig.json', { compilerOptions: { strict: false } }],
    ['package.json', { type: 'module', description: 'edited' }],
  ])('a change of the plugin folder %s alone makes a new version on reloadConfig()', async (file, content) => {
    const { glean, temp, api, reloads } = await start();
    await temp.write(file, content);
    await glean.reloadConfig();
    expect(reloads.map((event) => event.changed)).toEqual([[temp.path(file)]]);
    expect(reloads[0]!.to.graphHash).not.toBe(reloads[0]!.from.graphHash);
    expect(await api.tag()).toBe('v1');
  });

  it('with watch on, an edit of the plugin folder tsconfig.json alone (saved by a rename over it) makes a new version', async () => {
    const { glean, temp, api } = await start({ watch: true });
    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    await temp.replace('tsconfig.json', { compilerOptions: { strict: false } });
    expect((await reloaded).changed).toEqual([temp.path('tsconfig.json')]);
    expect(await api.tag()).toBe('v1');
  });

  it('reloadConfig() with nothing changed makes no version: no reload event, the same graph hash and threads', async () => {
    const { glean, api, reloads } = await start();
    const before = glean.status()['Api']!;
    await glean.reloadConfig();
    await glean.reloadConfig();
    expect(reloads).toEqual([]);
    const after = glean.status()['Api']!;
    expect(after.graphHash).toBe(before.graphHash);
    expect(after.threads.map((thread) => thread.threadId)).toEqual(before.threads.map((thread) => thread.threadId));
    expect(await api.tag()).toBe('v1');
  });
});

describe('one code per version', () => {
  it('with two threads, a worker that crashes after a helper edit restarts on the old helper; reloadConfig() then serves the edit', async () => {
    // concurrency 1: two calls held at once are on the two threads.
    const { glean, temp, api, reloads } = await start({ threads: 2, concurrency: 1 });
    const bothAnswer = async (): Promise<{ tags: string[]; threads: number[] }> => {
      const held = gate();
      const calls = [api.held(held.name), api.held(held.name)];
      await held.ready(2);
      held.open();
      const answers = await Promise.all(calls);
      return { tags: answers.map((a) => a.tag), threads: answers.map((a) => a.threadId).sort() };
    };
    const first = await bothAnswer();
    expect(first.tags).toEqual(['v1', 'v1']);
    expect(new Set(first.threads).size).toBe(2);

    await temp.write('lib/helper.ts', helper('v2'));
    expect((await bothAnswer()).tags).toEqual(['v1', 'v1']);

    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    expect((await rejectionOf(api.exit())).code).toBe('GLEAN_PLUGIN_CRASHED');
    const crash = await crashed;
    expect(crash).toMatchObject({ restarting: true, failed: false });
    await until(() => {
      const status = glean.status()['Api']!;
      return status.restarts === 1 && status.threads.length === 2 && status.threads.every((thread) => thread.ready);
    }, 'the replacement worker to load');

    const afterCrash = await bothAnswer();
    expect(afterCrash.tags).toEqual(['v1', 'v1']);
    expect(afterCrash.threads).not.toContain(crash.threadId);
    expect(afterCrash.threads).toContain(first.threads.find((id) => id !== crash.threadId));
    expect(reloads).toEqual([]);

    await glean.reloadConfig();
    expect(reloads.map((event) => event.changed)).toEqual([[temp.path('lib/helper.ts')]]);
    expect((await bothAnswer()).tags).toEqual(['v2', 'v2']);
  });
});

describe('a dynamic import after the version started', () => {
  it('serves a file created since (the modules count grows), then watches it: editing it reloads', async () => {
    const { glean, temp, api } = await start({ watch: true });
    expect(glean.status()['Api']!.modules).toBe(2);
    await temp.write('later/a.ts', "export const value = 'a1';\n");
    expect(await api.later('a')).toBe('a1');
    expect(glean.status()['Api']!.modules).toBe(3);

    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    await temp.write('later/a.ts', "export const value = 'a2';\n");
    const event = await reloaded;
    expect(event.changed).toEqual([temp.path('later/a.ts')]);
    // The new version loaded what its first load imports; later/a.ts again once asked for.
    expect(event.to.modules).toBe(2);
    expect(await api.later('a')).toBe('a2');
    expect(glean.status()['Api']!.modules).toBe(3);
  });

  it('with watch on, the file a later import tried and did not find is watched: creating it makes a new version', async () => {
    const { glean, temp, api } = await start({ watch: true });
    // later/ does not exist yet either.
    expect((await rejectionOf(api.later('b'), Error)).code).toBe('ERR_MODULE_NOT_FOUND');
    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    await temp.write('later/b.ts', "export const value = 'b1';\n");
    expect((await reloaded).changed).toEqual([temp.path('later/b.ts')]);
    expect(await api.later('b')).toBe('b1');
  });

  it('a file tried and not found, then created, makes a new version on reloadConfig()', async () => {
    const { glean, temp, api, reloads } = await start();
    expect((await rejectionOf(api.later('b'), Error)).code).toBe('ERR_MODULE_NOT_FOUND');
    await temp.write('later/b.ts', "export const value = 'b1';\n");
    // Not found is not kept: the running version imports the file once it exists...
    expect(await api.later('b')).toBe('b1');
    // ...and the file found now changes the version's identity.
    await glean.reloadConfig();
    expect(reloads).toHaveLength(1);
    expect(reloads[0]!.changed).toContain(temp.path('later/b.ts'));
  });
});

describe('a helper that does not load', () => {
  it('a syntax error in lib/helper.ts: the reload rejects GLEAN_LOAD_FAILED naming the helper, and the old version serves', async () => {
    const { glean, temp, api, reloads } = await start();
    const before = glean.status()['Api']!;
    await temp.write('lib/helper.ts', 'export const tag = (: string => {\n');
    const error = await rejectionOf(glean.reloadConfig());
    expect(error.code).toBe('GLEAN_LOAD_FAILED');
    expect(error.message).toContain(`cannot compile ${temp.path('lib/helper.ts')}`);
    expect(reloads).toEqual([]);
    expect(await api.tag()).toBe('v1');
    expect(glean.status()['Api']!.graphHash).toBe(before.graphHash);
    expect(glean.status()['Api']!.lastError).toBe(error);

    await temp.write('lib/helper.ts', helper('v3'));
    await glean.reloadConfig();
    expect(reloads.map((event) => event.changed)).toEqual([[temp.path('lib/helper.ts')]]);
    expect(await api.tag()).toBe('v3');
  });

  it('a syntax error in the plugin file index.ts: the reload rejects GLEAN_LOAD_FAILED from its compile, and the old version serves', async () => {
    const { glean, temp, api, reloads } = await start();
    await temp.write('index.ts', 'export const Api = { tag: (: string => 1 };\n');
    const error = await rejectionOf(glean.reloadConfig());
    expect(error.code).toBe('GLEAN_LOAD_FAILED');
    expect(error.message).toContain(`cannot compile ${temp.path('index.ts')}`);
    // The compile's own error, as before the worker was asked, not the import's report of it.
    expect(
      error.message.startsWith(`plugin "Api" (${temp.path('index.ts')}): cannot compile ${temp.path('index.ts')}: `),
    ).toBe(true);
    expect((error.cause as Error).message).toMatch(/^Transform failed with 1 error/);
    expect(reloads).toEqual([]);
    expect(await api.tag()).toBe('v1');
  });

  it('a syntax error in a JavaScript helper: GLEAN_LOAD_FAILED names the helper and the place, which V8 does not', async () => {
    const temp = await tempDir();
    await temp.write('index.mjs', "import { tag } from './lib/helper.mjs';\nexport const T = () => tag();\n");
    await temp.write('lib/helper.mjs', "export const tag = () => 'ok';\nexport const bad = (: string) => 1;\n");
    const { glean } = await startGlean({ temp, config: [{ id: 'T', file: 'index.mjs', name: 'T' }], load: false });
    const error = await rejectionOf(glean.loadConfig());
    expect(error.code).toBe('GLEAN_LOAD_FAILED');
    expect(error.message).toContain(`cannot import ${temp.path('index.mjs')}: Unexpected token ':'`);
    expect(error.message).toContain(`(at ${temp.path('lib/helper.mjs')}:2:21: Unexpected ":")`);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('a package.json "imports" or self-reference resolves for a restart as it did for the version: one version, one code', async () => {
    const temp = await tempDir();
    await temp.write(
      'p/a.mjs',
      "export async function T() { return (await import('#dep')).default + '/' + (await import('self/dep')).default; }\nexport function Crash() { process.exit(1); }\n",
    );
    await temp.write('p/one.mjs', "export default 'one';\n");
    await temp.write('p/two.mjs', "export default 'two';\n");
    const pkg = (target: string): object => ({
      name: 'self',
      imports: { '#dep': target },
      exports: { './dep': target },
    });
    await temp.write('p/package.json', pkg('./one.mjs'));
    const { glean } = await startGlean({
      temp,
      configName: 'p/plugin.json',
      config: [
        { id: 'T', file: 'a.mjs', name: 'T' },
        { id: 'C', file: 'a.mjs', name: 'Crash' },
      ],
    });
    const t = await glean.reloadAndWatch<() => Promise<string>>('T');
    expect(await t()).toBe('one/one');
    const graphHash = glean.status()['T']!.graphHash;

    await temp.write('p/package.json', pkg('./two.mjs'));
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    await rejectionOf((await glean.reloadAndWatch<() => never>('C'))());
    await crashed;
    await until(() => glean.status()['T']!.threads.every((thread) => thread.ready), 'the replacement to load');
    // The replacement resolves '#dep' and 'self/dep' as the version first did, not from the new package.json.
    expect(await t()).toBe('one/one');
    expect(glean.status()['T']!.graphHash).toBe(graphHash);

    const reloaded = nextEvent<ReloadEvent>(glean, 'reload', (event) => event.id === 'T');
    await glean.reloadConfig();
    expect((await reloaded).changed).toEqual([temp.path('p/package.json')]);
    expect(await t()).toBe('two/two');
  });
});
