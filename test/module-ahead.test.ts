/**
 * The host answers ahead: when it serves an ES module, it sends with it the resolutions of the
 * module's static imports and the plugin-owned modules they lead to, through the static graph, so a
 * worker loads a plugin of many modules in one round trip of its module channel instead of one per
 * resolve and load. What goes ahead is what the graph served (read, confined, checked, compiled);
 * what failed does not go, and the worker's own request meets the error as before.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { CrashEvent } from '@glean/core';
import { hashForIntegrity } from '@glean/core/integrity';
import type { ModuleRequest } from '@glean/worker/protocol';
import { SentAhead } from '../packages/worker/src/module-ahead.js';
import { type AheadModule, ModulesGiven } from '../packages/core/src/modules/ahead.js';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';
import { nextEvent, onCleanup, tempDir, until, type TempDir } from './helpers/index.js';

/** The built core's module graph, the one the Glean under test runs (as bench/lib/module-requests.mjs finds it). */
const GRAPH = new URL('./modules/graph.js', import.meta.resolve('@glean/core')).href;

interface Counted {
  resolve: number;
  load: number;
}

/** Counts every module request the host answers from now until the test ends (each one round trip of a worker's module channel). */
async function countRequests(): Promise<{ take(): Counted; peek(): Counted }> {
  const { ModuleGraph } = (await import(GRAPH)) as {
    ModuleGraph: { prototype: { answer(request: ModuleRequest, ...rest: unknown[]): unknown } };
  };
  const original = ModuleGraph.prototype.answer;
  let counts: Counted = { resolve: 0, load: 0 };
  ModuleGraph.prototype.answer = function answer(this: unknown, request, ...rest) {
    if (request.op === 'load') counts.load++;
    else counts.resolve++;
    return original.call(this, request, ...rest);
  };
  onCleanup(() => {
    ModuleGraph.prototype.answer = original;
  });
  return {
    peek: () => counts,
    take() {
      const taken = counts;
      counts = { resolve: 0, load: 0 };
      return taken;
    },
  };
}

/** How many helpers the many-module plugin has. */
const HELPERS = 24;
const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * A plugin of an entry and {@link HELPERS} helpers under lib/, each importing the first (a shared
 * module), the last importing a module nested two folders down, which imports a JSON file (with its
 * import attribute), a package in the root's node_modules and a built-in; lib/a.mjs and lib/b.mjs
 * import each other. `Sum()` adds every helper's value; `Exit()` ends the worker; `Later()` imports
 * later.mjs, which imports a helper already loaded and a module of its own.
 */
async function manyModules(temp: TempDir): Promise<void> {
  await temp.write('package.json', { type: 'module' });
  const imports: string[] = [];
  for (let i = 1; i <= HELPERS; i++) {
    const shared = i === 1 ? '' : "import { one } from './h01.mjs';\n";
    const deep = i === HELPERS ? "import { deep } from './deep/er/most.mjs';\n" : '';
    const value =
      i === 1
        ? 'export const one = 1;\nexport const value = 1;\n'
        : `export const value = one * ${i}${i === HELPERS ? ' + deep' : ''};\n`;
    await temp.write(`lib/h${pad(i)}.mjs`, `${shared}${deep}${value}`);
    imports.push(`import { value as v${i} } from './lib/h${pad(i)}.mjs';`);
  }
  await temp.write(
    'lib/deep/er/most.mjs',
    [
      "import data from '../../data.json' with { type: 'json' };",
      "import { twice } from 'pkg';",
      "import { sep } from 'node:path';",
      "import { b } from '../../b.mjs';",
      'export const deep = twice(data.n) + (sep.length - 1) + b();',
    ].join('\n'),
  );
  await temp.write('lib/data.json', { n: 50 });
  await temp.write(
    'lib/a.mjs',
    "import { b } from './b.mjs';\nexport const a = () => 'a';\nexport const viaB = () => b();\n",
  );
  await temp.write('lib/b.mjs', "import { a } from './a.mjs';\nexport const b = () => (a() === 'a' ? 0 : 1);\n");
  await temp.write('node_modules/pkg/package.json', { name: 'pkg', type: 'module', exports: './index.js' });
  await temp.write('node_modules/pkg/index.js', 'export const twice = (n) => 2 * n;\n');
  await temp.write('later/mine.mjs', 'export const mine = 7;\n');
  await temp.write(
    'later.mjs',
    "import { one } from './lib/h01.mjs';\nimport { mine } from './later/mine.mjs';\nexport const later = one + mine;\n",
  );
  await temp.write(
    'index.mjs',
    [
      ...imports,
      `export const Sum = () => ${Array.from({ length: HELPERS }, (_, i) => `v${i + 1}`).join(' + ')};`,
      'export const Exit = () => process.exit(1);',
      "export const Later = async () => (await import('./later.mjs')).later;",
    ].join('\n'),
  );
}

/** 1 + 2 + … + HELPERS, and the deep module's 100. */
const SUM = (HELPERS * (HELPERS + 1)) / 2 + 100;

describe('a plugin of many modules', () => {
  it(`loads its ${HELPERS + 5} modules in one round trip: the plugin file's load, which carries every static import ahead`, async () => {
    const requests = await countRequests();
    const temp = await tempDir();
    await manyModules(temp);
    const { glean } = await startGlean({ temp, config: [{ id: 'Sum', file: 'index.mjs', name: 'Sum' }] });
    const sum = await glean.reloadAndWatch<() => number>('Sum');
    expect(await sum()).toBe(SUM);
    expect(requests.take()).toEqual({ resolve: 0, load: 1 });
    // Every plugin-owned module the worker ran is in the version's graph, as before.
    expect(glean.status()['Sum']!.modules).toBe(HELPERS + 5);
  });

  it('with two threads, each worker loads in one round trip, and so does a restarted one', async () => {
    const requests = await countRequests();
    const temp = await tempDir();
    await manyModules(temp);
    const { glean } = await startGlean({
      temp,
      config: ['Sum', 'Exit'].map((name) => ({ id: name, file: 'index.mjs', name, threads: 2 })),
    });
    const sum = await glean.reloadAndWatch<() => number>('Sum');
    const exit = await glean.reloadAndWatch<() => never>('Exit');
    expect(await sum()).toBe(SUM);
    expect(requests.take()).toEqual({ resolve: 0, load: 2 });
    const crashed = nextEvent<CrashEvent>(glean, 'crash');
    expect((await rejectionOf(exit())).code).toBe('GLEAN_PLUGIN_CRASHED');
    await crashed;
    // The restarted worker loads the version's modules as they were served, in one round trip too.
    await until(() => requests.peek().load > 0, 'the restarted worker to load');
    await until(
      () => glean.status()['Sum']!.threads.filter((thread) => thread.ready).length === 2,
      'two threads ready',
    );
    const results = await Promise.all(Array.from({ length: 8 }, () => sum()));
    expect(results).toEqual(Array.from({ length: 8 }, () => SUM));
    expect(glean.status()['Sum']!.restarts).toBe(1);
    expect(requests.take()).toEqual({ resolve: 0, load: 1 });
  });

  it('a later dynamic import costs one round trip, its resolve, which carries the module and its new static imports', async () => {
    const requests = await countRequests();
    const temp = await tempDir();
    await manyModules(temp);
    const { glean } = await startGlean({ temp, config: [{ id: 'Later', file: 'index.mjs', name: 'Later' }] });
    const later = await glean.reloadAndWatch<() => number>('Later');
    requests.take();
    expect(await later()).toBe(8);
    expect(requests.take()).toEqual({ resolve: 1, load: 0 });
    expect(glean.status()['Later']!.modules).toBe(HELPERS + 7);
    // Node resolves a dynamic import at every call; the module it has is not loaded again.
    expect(await later()).toBe(8);
    expect(requests.take()).toEqual({ resolve: 1, load: 0 });
  });
  it('a TypeScript plugin too: helpers imported as ./x.js and through a tsconfig paths alias, compiled on the host, in one round trip', async () => {
    const requests = await countRequests();
    const temp = await tempDir();
    await temp.write('package.json', { type: 'module' });
    await temp.write('tsconfig.json', { compilerOptions: { baseUrl: '.', paths: { '@lib/*': ['lib/*'] } } });
    await temp.write(
      'index.ts',
      "import { fmt } from '@lib/fmt';\nimport { n } from './lib/n.js';\nexport const Hello = (name: string): string => fmt(name) + n;\n",
    );
    await temp.write(
      'lib/fmt.ts',
      "import { n } from './n.js';\nexport const fmt = (name: string): string => 'hello ' + name + ' ' + n;\n",
    );
    await temp.write('lib/n.ts', 'export const n: number = 3;\n');
    const { glean } = await startGlean({ temp, config: [{ id: 'Hello', file: 'index.ts', name: 'Hello' }] });
    expect(await (await glean.reloadAndWatch<(name: string) => string>('Hello'))('ts')).toBe('hello ts 33');
    expect(requests.take()).toEqual({ resolve: 0, load: 1 });
  });
});

describe('what goes ahead is what the graph checked', () => {
  it('a lockfile mismatch in a statically imported helper two imports deep refuses the version with GLEAN_INTEGRITY_MISMATCH naming the helper', async () => {
    const temp = await tempDir();
    await manyModules(temp);
    const files = ['index.mjs', 'later.mjs', 'later/mine.mjs', 'lib/a.mjs', 'lib/b.mjs', 'lib/data.json'];
    for (let i = 1; i <= HELPERS; i++) files.push(`lib/h${pad(i)}.mjs`);
    const modules: Record<string, string> = {};
    for (const file of files) modules[file] = hashForIntegrity(await readFile(temp.path(file)));
    // The lockfile lists the deep module as it was; the file on disk says otherwise.
    modules['lib/deep/er/most.mjs'] = hashForIntegrity(Buffer.from('export const deep = 100;\n'));
    await temp.write('glean.lock.json', { lockfileVersion: 1, modules });
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Sum', file: 'index.mjs', name: 'Sum' }],
      load: false,
    });
    const error = await rejectionOf(glean.loadConfig());
    expect(error).toMatchObject({ code: 'GLEAN_INTEGRITY_MISMATCH', file: temp.path('lib/deep/er/most.mjs') });
    expect(glean.status()).toEqual({});
  });
});

describe('ModulesGiven: what one worker has been given', () => {
  const resolution = (specifier: string, url: string | null) => [specifier, 'file:///p/index.mjs', url] as const;
  const module = (name: string, source = 'export {};'): AheadModule => [`file:///p/${name}`, 'module', source];

  it('offers each resolution and module once, and nothing the worker asked for itself', () => {
    const given = new ModulesGiven();
    given.gaveModule('file:///p/asked.mjs');
    given.gaveResolution('./asked.mjs', 'file:///p/index.mjs');
    const first = given.offer(
      [
        resolution('./a.mjs', 'file:///p/a.mjs'),
        resolution('pkg', null),
        resolution('./asked.mjs', 'file:///p/asked.mjs'),
      ],
      [module('a.mjs'), module('asked.mjs')],
    );
    expect(first).toEqual({
      resolutions: [
        ['./a.mjs', 'file:///p/index.mjs', 'file:///p/a.mjs'],
        ['pkg', 'file:///p/index.mjs', null],
      ],
      modules: [module('a.mjs')],
    });
    expect(given.offer([resolution('./a.mjs', 'file:///p/a.mjs')], [module('a.mjs')])).toBeUndefined();
    expect(given.hasModule('file:///p/a.mjs') && given.hasResolution('pkg', 'file:///p/index.mjs')).toBe(true);
  });

  it('carries at most its per-answer characters; what does not fit stays unsent, for a later answer', () => {
    const given = new ModulesGiven({ perAnswer: 200 });
    const big = module('big.mjs', 'x'.repeat(150));
    const small = module('small.mjs', 'y'.repeat(10));
    expect(given.offer([], [big, module('next.mjs', 'z'.repeat(30)), small])?.modules).toEqual([big, small]);
    expect(given.hasModule('file:///p/next.mjs')).toBe(false);
    expect(given.offer([], [module('next.mjs', 'z'.repeat(30))])?.modules).toHaveLength(1);
  });

  it('once its record is full, sends nothing more, whatever is asked', () => {
    const given = new ModulesGiven({ record: 200 });
    for (let i = 0; given.offer([], [module(`m${i}.mjs`)]) !== undefined; i++) expect(i).toBeLessThan(20);
    given.gaveModule('file:///p/later.mjs');
    expect(given.offer([resolution('./x.mjs', 'file:///p/x.mjs')], [module('fresh.mjs')])).toBeUndefined();
    expect(given.full).toBe(true);
  });

  it('charges each entry what it costs the host beyond its characters: a flood of short URLs the worker asked for fills it too', () => {
    const given = new ModulesGiven({ record: 64 * 1024 });
    let noted = 0;
    while (!given.full && noted < 100_000) given.gaveModule(`file:///p/a.mjs?${noted++}`);
    // Each URL is about 20 characters; charged its characters alone, the record would take over 3,000.
    expect(given.full).toBe(true);
    expect(noted).toBeLessThan(1000);
  });
});

describe('SentAhead: what a worker holds ahead', () => {
  it('answers a resolve or a load from what was sent once, then asks again', () => {
    const ahead = new SentAhead();
    ahead.keep({
      seq: 1,
      format: 'module',
      source: '',
      ahead: {
        resolutions: [
          ['./a.mjs', 'file:///p/index.mjs', 'file:///p/a.mjs'],
          ['pkg', 'file:///p/index.mjs', null],
        ],
        modules: [['file:///p/a.mjs', 'module', 'export const a = 1;']],
      },
    });
    expect(ahead.resolution('./a.mjs', 'file:///p/other.mjs')).toBeUndefined();
    expect(ahead.resolution('./a.mjs', 'file:///p/index.mjs')).toEqual({ url: 'file:///p/a.mjs' });
    expect(ahead.resolution('pkg', 'file:///p/index.mjs')).toEqual({ next: true });
    expect(ahead.module('file:///p/a.mjs')).toEqual({ format: 'module', source: 'export const a = 1;' });
    expect(ahead.size).toBe(0);
    expect(ahead.resolution('./a.mjs', 'file:///p/index.mjs')).toBeUndefined();
    expect(ahead.module('file:///p/a.mjs')).toBeUndefined();
  });
});
