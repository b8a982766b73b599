/**
 * What a worker thread loads before its plugin asks for anything: every built-in module a thread
 * loads costs its start CPU (a reload starts one; docs/benchmarks.md, section 7), so glean's runtime
 * loads only what it uses. Read from the thread's own `process.moduleLoadList` (Node's list of the
 * built-in modules it has loaded), through a plugin that returns it.
 */
import { describe, expect, it } from 'vitest';
import { startGlean } from './helpers/glean.js';

const LIST = `export const loaded = () => process.moduleLoadList;\n`;

/** Where `module.registerHooks` exists, glean's module hooks run in the worker's own thread. */
const hooksInThread =
  typeof ((await import('node:module')) as { registerHooks?: unknown }).registerHooks === 'function';

describe("a worker thread's start", () => {
  // On Node 20 and 22 before 22.15, Node's own loader loads these for module.register's hooks anyway.
  it.runIf(hooksInThread)(
    'loads neither node:fs/promises nor what it brings (readline, the fs watchers) (Node 22.15+, 24)',
    async () => {
      const { glean } = await startGlean({
        files: { 'list.mjs': LIST },
        config: [{ id: 'List', file: 'list.mjs', name: 'loaded' }],
      });
      const loaded = await (await glean.reloadAndWatch<() => string[]>('List'))();
      expect(loaded).toContain('NativeModule fs');
      expect(loaded).toContain('NativeModule module');
      for (const module of ['internal/fs/promises', 'internal/readline/interface', 'internal/fs/watchers'])
        expect(loaded).not.toContain(`NativeModule ${module}`);
    },
  );

  it.runIf(hooksInThread)(
    'loads node:child_process (with net and dgram) only once plugin code asks for it (Node 22.15+, 24)',
    async () => {
      const { glean } = await startGlean({
        files: {
          'list.mjs': LIST,
          'spawns.mjs': `import { spawnSync } from 'node:child_process';\nexport const loaded = () => [spawnSync.name, ...process.moduleLoadList];\n`,
        },
        config: [
          { id: 'List', file: 'list.mjs', name: 'loaded' },
          { id: 'Spawns', file: 'spawns.mjs', name: 'loaded' },
        ],
      });
      const quiet = await (await glean.reloadAndWatch<() => string[]>('List'))();
      for (const module of ['child_process', 'net', 'dgram']) expect(quiet).not.toContain(`NativeModule ${module}`);
      const spawns = await (await glean.reloadAndWatch<() => string[]>('Spawns'))();
      expect(spawns).toContain('NativeModule child_process');
    },
  );
});
