/**
 * A plugin's cleanup: the plugin file's `dispose` export, then what its modules registered with
 * `onDispose` (last first), runs once in every worker as it ends (its version retired, glean closed,
 * the worker replaced after a protocol breach while still alive), each worker's within
 * `disposeTimeoutMs`. A throw or a hang is a GLEAN_DISPOSE_FAILED error event and in status(), and
 * holds neither retirement nor close(). `dispose` is no handle's export.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type GleanError, type RetireEvent, loadSymbol } from '@glean/core';
import { onDispose } from '@glean/worker';
import { nextEvent, tempDir, until, type TempDir } from './helpers/index.js';
import { rejectionOf, thrownBy } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';
import { recordEvents } from './helpers/faults.js';

const gleanPorts = readFileSync(new URL('./fixtures/hostile/glean-ports.mjs', import.meta.url), 'utf8');

/** The lines the plugin's workers appended to `log`: `<what> <threadId>`. */
function lines(temp: TempDir): string[] {
  try {
    return readFileSync(temp.path('log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** A plugin logging its load and its cleanup; `cleanup` is the body of its `dispose`. */
function plugin(temp: TempDir, tag: string, cleanup = ''): string {
  return `
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
const log = (what) => appendFileSync(${JSON.stringify(temp.path('log'))}, what + ' ' + threadId + '\\n');
log('load-${tag}');
export function run() { return '${tag}'; }
export function threadOf() { return threadId; }
export function block() { for (;;); }
export async function breach() { const { gleanPorts } = await import('./glean-ports.mjs'); (await gleanPorts()).call.postMessage('garbage'); return 1; }
export async function dispose() { log('dispose-${tag}'); ${cleanup} }
`;
}

describe('dispose', () => {
  it('runs once in every worker of a retired version, before its threads end', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'a.mjs': plugin(temp, 'a'), 'b.mjs': plugin(temp, 'b') },
      config: [{ id: 'P', file: 'a.mjs', name: 'run', threads: 2 }],
    });
    const retired = nextEvent<RetireEvent>(glean, 'retire');
    await temp.write('plugin.json', [{ id: 'P', file: 'b.mjs', name: 'run', threads: 2 }]);
    await glean.reloadConfig();
    await retired;
    const loadedA = lines(temp).filter((line) => line.startsWith('load-a'));
    const disposedA = lines(temp).filter((line) => line.startsWith('dispose-a'));
    expect(loadedA).toHaveLength(2);
    expect(disposedA.map((line) => line.replace('dispose', 'load')).sort()).toEqual([...loadedA].sort());
    expect(lines(temp).filter((line) => line.startsWith('dispose-b'))).toEqual([]);
  });

  it('runs once in every worker on close(), and once only when several symbols of the file share the workers', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'a.mjs': plugin(temp, 'a') },
      config: [
        { id: 'P', file: 'a.mjs', name: 'run', threads: 2 },
        { id: 'Q', file: 'a.mjs', name: 'threadOf', threads: 2 },
      ],
    });
    expect(await (await glean.reload<() => string>('P'))()).toBe('a');
    await glean.close();
    expect(lines(temp).filter((line) => line.startsWith('load-a'))).toHaveLength(2);
    expect(lines(temp).filter((line) => line.startsWith('dispose-a'))).toHaveLength(2);
  });

  it('runs on release of a loadSymbol handle', async () => {
    const temp = await tempDir();
    const file = await temp.write('a.mjs', plugin(temp, 'a'));
    const handle = await loadSymbol<() => string>(file, 'run', { logger: false });
    await handle[Symbol.asyncDispose]();
    expect(lines(temp).filter((line) => line.startsWith('dispose-a'))).toHaveLength(1);
  });

  it('runs in a worker replaced for breaking the protocol while alive, before its replacement loads', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'a.mjs': plugin(temp, 'a'), 'glean-ports.mjs': gleanPorts },
      config: [{ id: 'P', file: 'a.mjs', name: 'breach' }],
    });
    const first = lines(temp)[0]!.split(' ')[1];
    const crashed = nextEvent(glean, 'crash');
    await (await glean.reload<() => Promise<number>>('P'))().catch(() => {});
    await crashed;
    await until(() => lines(temp).length >= 3, 'the replacement loaded');
    const [loaded, disposed, replaced] = lines(temp);
    expect(loaded).toBe(`load-a ${first}`);
    expect(disposed).toBe(`dispose-a ${first}`);
    expect(replaced).toMatch(/^load-a \d+$/);
    expect(replaced).not.toBe(loaded);
  });

  it('is not waited for in a worker whose event loop is blocked: the replacement starts at once', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'a.mjs': plugin(temp, 'a') },
      config: [{ id: 'P', file: 'a.mjs', name: 'block', timeoutMs: 100, disposeTimeoutMs: 600_000 }],
    });
    const block = await glean.reload<() => Promise<never>>('P');
    expect((await rejectionOf(block())).code).toBe(ErrorCode.TIMEOUT);
    await until(() => lines(temp).filter((line) => line.startsWith('load-a')).length === 2, 'the replacement loaded');
    expect(lines(temp).filter((line) => line.startsWith('dispose'))).toEqual([]);
  });
});

describe('onDispose', () => {
  const helper = (temp: TempDir, name: string, spec = '@glean/worker') => `
import { appendFileSync } from 'node:fs';
import { onDispose } from '${spec}';
onDispose(() => appendFileSync(${JSON.stringify(temp.path('log'))}, '${name}-first\\n'));
onDispose(async () => { await new Promise((resolve) => setTimeout(resolve, 5)); appendFileSync(${JSON.stringify(temp.path('log'))}, '${name}-second\\n'); });
export const ready = true;
`;

  it("runs registered functions after the module's dispose, last registered first", async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: {
        'helper.mjs': helper(temp, 'helper'),
        'a.mjs': `import './helper.mjs';\n${plugin(temp, 'a')}`,
      },
      config: [{ id: 'P', file: 'a.mjs', name: 'run' }],
    });
    await glean.close();
    expect(lines(temp).map((line) => line.split(' ')[0])).toEqual([
      'load-a',
      'dispose-a',
      'helper-second',
      'helper-first',
    ]);
  });

  // Node 22 sends the require() of a CommonJS file an ES module imported past every resolver glean
  // has (README, "Supported Node.js versions"): there this fails, and says so once Node changes.
  (process.versions.node.startsWith('22.') ? it.fails : it)(
    "gets the worker's own runtime whatever the plugin's node_modules hold: a copy of its own, a package importing it, require()",
    async () => {
      const temp = await tempDir();
      const { glean } = await startGlean({
        temp,
        files: {
          // A copy of @glean/worker of the plugin's own, whose onDispose would register nowhere glean looks.
          'node_modules/@glean/worker/package.json': JSON.stringify({
            name: '@glean/worker',
            type: 'module',
            exports: './index.js',
          }),
          'node_modules/@glean/worker/index.js':
            'export function onDispose() { throw new Error("the plugin\'s own copy"); }',
          'node_modules/dep/package.json': JSON.stringify({ name: 'dep', type: 'module', exports: './index.js' }),
          'node_modules/dep/index.js': helper(temp, 'dep'),
          'helper.cjs': `const { onDispose } = require('@glean/worker');\nconst { appendFileSync } = require('node:fs');\nonDispose(() => appendFileSync(${JSON.stringify(temp.path('log'))}, 'cjs\\n'));`,
          'a.mjs': `import 'dep';\nimport './helper.cjs';\nexport function run() { return 'a'; }`,
        },
        config: [{ id: 'P', file: 'a.mjs', name: 'run' }],
      });
      expect(await (await glean.reload<() => string>('P'))()).toBe('a');
      await glean.close();
      expect(lines(temp)).toEqual(['cjs', 'dep-second', 'dep-first']);
    },
  );

  it('throws a clear error outside a glean worker', () => {
    const error = thrownBy(() => onDispose(() => {}), Error);
    expect(error.message).toMatch(
      /not one: it was called in the main thread, or from a copy of @glean\/worker bundled/,
    );
    expect(thrownBy(() => onDispose(5 as never), TypeError).message).toBe(
      'onDispose() expects a function, received number',
    );
  });
});

describe('a cleanup that fails', () => {
  it.each([
    ['throws', "throw Object.assign(new Error('pool would not close'), { code: 'EPOOL' });"],
    ['hangs', 'await new Promise(() => {});'],
  ])(
    '%s: GLEAN_DISPOSE_FAILED as an error event and in status(), within disposeTimeoutMs, and close() is not held',
    async (how, body) => {
      const temp = await tempDir();
      const { glean } = await startGlean({
        temp,
        files: { 'a.mjs': plugin(temp, 'a', body), 'b.mjs': plugin(temp, 'b') },
        config: [{ id: 'P', file: 'a.mjs', name: 'run', version: '1.0', disposeTimeoutMs: 300 }],
      });
      const run = await glean.reloadAndWatch<() => string>('P');
      const failed = nextEvent<GleanError>(glean, 'error', (error) => error.code === ErrorCode.DISPOSE_FAILED);
      const retired = nextEvent<RetireEvent>(glean, 'retire');
      await temp.write('plugin.json', [{ id: 'P', file: 'b.mjs', name: 'run', version: '2.0', disposeTimeoutMs: 300 }]);
      await glean.reloadConfig();
      expect(await run()).toBe('b');
      const error = await failed;
      await retired;
      expect(error).toMatchObject({ code: ErrorCode.DISPOSE_FAILED, id: 'P', version: '1.0' });
      if (how === 'throws') expect(error.cause).toMatchObject({ message: 'pool would not close', code: 'EPOOL' });
      else expect(error.message).toMatch(/still running after disposeTimeoutMs \(300 ms\)/);
      expect(glean.status()['P']?.lastError).toBe(error);
      expect(await run()).toBe('b');

      // Now on close(): the version serving fails its cleanup too, and close() resolves anyway.
      await temp.write('plugin.json', [{ id: 'P', file: 'a.mjs', name: 'run', version: '3.0', disposeTimeoutMs: 300 }]);
      await glean.reloadConfig();
      const onClose = nextEvent<GleanError>(
        glean,
        'error',
        (e) => e.code === ErrorCode.DISPOSE_FAILED && e.version === '3.0',
      );
      await glean.close();
      expect(await onClose).toMatchObject({ id: 'P', version: '3.0' });
    },
  );
});

describe('a cleanup that ends its worker', () => {
  it('process.exit() in dispose: GLEAN_DISPOSE_FAILED saying the worker exited with its code, and close() is not held', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'a.mjs': plugin(temp, 'a', 'process.exit(7);') },
      config: [{ id: 'P', file: 'a.mjs', name: 'run' }],
    });
    const failed = nextEvent<GleanError>(glean, 'error', (error) => error.code === ErrorCode.DISPOSE_FAILED);
    await glean.close();
    const error = await failed;
    expect(error.message).toMatch(/worker thread \d+ exited with code 7 during the plugin's cleanup \(dispose\)/);
    expect(error.cause).toMatchObject({ code: ErrorCode.PLUGIN_CRASHED, exitCode: 7 });
  });
});

describe("a cleanup that takes glean's control port from it", () => {
  const ports = "const { gleanPorts } = await import('./glean-ports.mjs');";
  it.each([
    ['closes it', `${ports} (await gleanPorts()).control.close();`, 'control'],
    // Moved, the port stays open at the host's end: only the worker's runtime sees it go, and closes the call port.
    [
      'moves it to a channel of its own',
      `${ports} const { MessageChannel } = await import('node:worker_threads'); const channel = new MessageChannel(); channel.port1.postMessage(null, [(await gleanPorts()).control]); globalThis.kept = channel;`,
      'call',
    ],
  ])(
    '%s, then hangs: GLEAN_DISPOSE_FAILED naming the port that closed, without waiting out disposeTimeoutMs, and close() is not held',
    async (_how, take, closed) => {
      const temp = await tempDir();
      const { glean } = await startGlean({
        temp,
        files: { 'a.mjs': plugin(temp, 'a', `${take} await new Promise(() => {});`), 'glean-ports.mjs': gleanPorts },
        config: [{ id: 'P', file: 'a.mjs', name: 'run', disposeTimeoutMs: 600_000 }],
      });
      const failed = nextEvent<GleanError>(glean, 'error', (error) => error.code === ErrorCode.DISPOSE_FAILED);
      const closing = glean.close();
      const error = await failed;
      await closing;
      expect(error.message).toMatch(
        new RegExp(`worker thread \\d+ closed its ${closed} port during the plugin's cleanup \\(dispose\\)`),
      );
      expect(error.cause).toMatchObject({ code: ErrorCode.PLUGIN_CRASHED });
      expect(lines(temp).filter((line) => line.startsWith('dispose'))).toHaveLength(1);
    },
  );
});

describe('disposeTimeoutMs: 0', () => {
  it('runs no cleanup and reports none: a worker without time for its cleanup is not a failed one', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'a.mjs': plugin(temp, 'a'), 'b.mjs': plugin(temp, 'b') },
      config: [{ id: 'P', file: 'a.mjs', name: 'run', threads: 2, disposeTimeoutMs: 0 }],
    });
    const errors = recordEvents(glean, 'error');
    const retired = nextEvent<RetireEvent>(glean, 'retire');
    await temp.write('plugin.json', [{ id: 'P', file: 'b.mjs', name: 'run', threads: 2, disposeTimeoutMs: 0 }]);
    await glean.reloadConfig();
    await retired;
    await glean.close();
    expect(errors).toEqual([]);
    expect(lines(temp).filter((line) => line.startsWith('dispose'))).toEqual([]);
  });
});

describe('dispose is not a handle', () => {
  it('is refused with GLEAN_RESERVED_EXPORT by the config and by loadSymbol', async () => {
    const temp = await tempDir();
    const file = await temp.write('a.mjs', plugin(temp, 'a'));
    expect((await rejectionOf(loadSymbol(file, 'dispose', { logger: false }))).code).toBe(ErrorCode.RESERVED_EXPORT);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'P', file: 'a.mjs', name: 'run' }],
    });
    await temp.write('plugin.json', [
      { id: 'P', file: 'a.mjs', name: 'run' },
      { id: 'D', file: 'a.mjs', name: 'dispose' },
    ]);
    const error = await rejectionOf(glean.reloadConfig());
    expect(error).toMatchObject({ code: ErrorCode.RESERVED_EXPORT, id: 'D' });
    expect(error.message).toMatch(/export "dispose" is the plugin's cleanup/);
  });

  it("is left out of a CommonJS module.exports' methods, and findAll matches it only when named", async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: {
        'a.cjs': `const { appendFileSync } = require('node:fs');\nmodule.exports = { run() { return 'a'; }, dispose() { appendFileSync(${JSON.stringify(temp.path('log'))}, 'cjs-dispose\\n'); } };`,
      },
      config: [{ id: 'P', file: 'a.cjs', name: 'default' }],
    });
    const p = await glean.reload<{ run(): string; dispose(): void }>('P');
    expect(Object.keys(p)).toEqual(['run']);
    expect('dispose' in p).toBe(false);
    expect(await p.run()).toBe('a');
    expect(glean.findAll({ methods: ['run'] })).toEqual(['P']);
    expect(glean.findAll({ methods: ['dispose'] })).toEqual(['P']);
    await glean.close();
    expect(lines(temp)).toEqual(['cjs-dispose']);
  });
});
