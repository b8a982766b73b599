import { describe, expect, it } from 'vitest';
import { GleanError, type ReloadEvent, type RetireEvent } from '@glean/core';
import { nextEvent, tempDir, threadCount, threadsBackTo, until, type TempDir } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';

/** A plugin whose answers say which version served them. */
const greeter = (tag: string, delayMs = 0): string => `
export async function Greet(name) {
  ${delayMs > 0 ? `await new Promise((resolve) => setTimeout(resolve, ${delayMs}));` : ''}
  return '${tag}:' + name;
}
export const Tag = '${tag}';
`;

describe('hot swap', () => {
  it('moves a live handle to the new version when the plugin file changes, and retires the old one', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v1'));
    const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet' }] });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    expect(await greet('a')).toBe('v1:a');

    await temp.write('greet.mjs', greeter('v2'));
    const reloaded = nextEvent<ReloadEvent>(glean, 'reload');
    const retired = nextEvent<RetireEvent>(glean, 'retire');
    await glean.reloadConfig();
    const event = await reloaded;
    expect(event.id).toBe('G');
    expect(event.from.contentHash).not.toBe(event.to.contentHash);
    expect(await greet('b')).toBe('v2:b');
    expect((await retired).version.contentHash).toBe(event.from.contentHash);
  });

  it('answers 200 concurrent calls across a swap, each by exactly the old or the new version', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v1', 30));
    const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet' }] });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');

    const before = Array.from({ length: 200 }, (_, i) => greet(`c${i}`));
    await temp.write('greet.mjs', greeter('v2', 30));
    const swap = glean.reloadConfig();
    const during = Array.from({ length: 200 }, (_, i) => greet(`d${i}`));
    await swap;
    const after = Array.from({ length: 200 }, (_, i) => greet(`e${i}`));

    const results = await Promise.allSettled([...before, ...during, ...after]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const values = results.map((r) => (r as PromiseFulfilledResult<string>).value);
    for (const [i, value] of values.entries()) {
      const name = i < 200 ? `c${i}` : i < 400 ? `d${i - 200}` : `e${i - 400}`;
      expect([`v1:${name}`, `v2:${name}`]).toContain(value);
    }
    expect(values.slice(0, 200).every((v) => v.startsWith('v1:'))).toBe(true);
    expect(values.slice(400).every((v) => v.startsWith('v2:'))).toBe(true);
  });

  it('switches every id touched by one change at once: no caller sees half a generation', async () => {
    const temp = await tempDir();
    await temp.write('a.mjs', greeter('a1'));
    await temp.write('b.mjs', greeter('b1'));
    const { glean } = await startGlean({
      temp,
      config: [
        { id: 'A', file: 'a.mjs', name: 'Greet' },
        { id: 'B', file: 'b.mjs', name: 'Greet' },
      ],
    });
    const a = await glean.reloadAndWatch<(name: string) => Promise<string>>('A');
    const b = await glean.reloadAndWatch<(name: string) => Promise<string>>('B');
    await temp.write('a.mjs', greeter('a2', 50));
    await temp.write('b.mjs', greeter('b2', 50));

    // Calls made in the same tick as the first reload event must already see both new versions.
    const seen = new Promise<string[]>((resolve) =>
      glean.once('reload', () => void Promise.all([a('x'), b('x')]).then(resolve)),
    );
    await glean.reloadConfig();
    expect(await seen).toEqual(['a2:x', 'b2:x']);
  });

  it('keeps a pinned handle on its version until watched, then lets that version retire', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v1'));
    const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet' }] });
    const pinned = await glean.reload<(name: string) => Promise<string>>('G');
    const live = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    let retired = 0;
    glean.on('retire', () => retired++);

    await temp.write('greet.mjs', greeter('v2'));
    await glean.reloadConfig();
    expect(await live('x')).toBe('v2:x');
    expect(await pinned('x')).toBe('v1:x');
    expect(retired).toBe(0);

    const retire = nextEvent(glean, 'retire');
    await glean.watch(pinned);
    await retire;
    expect(await pinned('y')).toBe('v2:y');

    await glean.release(pinned);
    await expect(pinned('z')).rejects.toMatchObject({ code: 'GLEAN_RELEASED' });
    expect(await live('z')).toBe('v2:z');
  });

  it('lets a released pinned handle free its version', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v1'));
    const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet' }] });
    const pinned = await glean.reload<(name: string) => Promise<string>>('G');
    await temp.write('greet.mjs', greeter('v2'));
    await glean.reloadConfig();
    expect(await pinned('x')).toBe('v1:x');
    const retire = nextEvent<RetireEvent>(glean, 'retire');
    await glean.release(pinned);
    await retire;
    await expect(pinned('x')).rejects.toMatchObject({ code: 'GLEAN_RELEASED' });
  });

  it('rejects GLEAN_NOT_CONFIGURED on a removed id and retires its version', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v1'));
    await temp.write('other.mjs', greeter('o1'));
    const { glean } = await startGlean({
      temp,
      config: [
        { id: 'G', file: 'greet.mjs', name: 'Greet' },
        { id: 'O', file: 'other.mjs', name: 'Greet' },
      ],
    });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    const other = await glean.reloadAndWatch<(name: string) => Promise<string>>('O');
    const retire = nextEvent<RetireEvent>(glean, 'retire');
    const removed = nextEvent(glean, 'remove');
    await temp.write('plugin.json', [{ id: 'O', file: 'other.mjs', name: 'Greet' }]);
    await glean.reloadConfig();
    await removed;
    expect((await retire).version.file).toBe(temp.path('greet.mjs'));
    const error = await greet('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GleanError);
    expect(error).toMatchObject({ code: 'GLEAN_NOT_CONFIGURED', id: 'G' });
    expect(await other('x')).toBe('o1:x');
    expect(Object.keys(glean.status())).toEqual(['O']);
  });

  it('adds an id on a change and serves it from a handle asked for afterwards', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v1'));
    const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet' }] });
    await expect(glean.reloadAndWatch('T')).rejects.toMatchObject({ code: 'GLEAN_NOT_CONFIGURED' });
    const loaded = nextEvent(glean, 'load');
    await temp.write('plugin.json', [
      { id: 'G', file: 'greet.mjs', name: 'Greet' },
      { id: 'T', file: 'greet.mjs', name: 'Tag' },
    ]);
    await glean.reloadConfig();
    expect(await loaded).toMatchObject({ id: 'T', kind: 'value' });
    const tag = await glean.reloadAndWatch<string>('T');
    expect(tag.value).toBe('v1');
    // The new id names another export of the same file and version: it shares the running workers.
    const status = glean.status();
    expect(status['T']!.threads.map((t) => t.threadId)).toEqual(status['G']!.threads.map((t) => t.threadId));
  });
});

describe('a failed reload changes nothing', () => {
  const failures: [string, (temp: TempDir) => Promise<unknown>, string][] = [
    ['a syntax error', (temp) => temp.write('greet.mjs', 'export function Greet( {'), 'GLEAN_LOAD_FAILED'],
    [
      'a missing file',
      (temp) => temp.write('plugin.json', [{ id: 'G', file: 'gone.mjs', name: 'Greet' }]),
      'GLEAN_LOAD_FAILED',
    ],
    ['a missing export', (temp) => temp.write('greet.mjs', 'export const Other = 1;'), 'GLEAN_SYMBOL_NOT_FOUND'],
    [
      'a throw during import',
      (temp) => temp.write('greet.mjs', "throw new Error('import failed');"),
      'GLEAN_LOAD_FAILED',
    ],
    [
      'an import still pending after loadTimeoutMs',
      (temp) =>
        temp
          .write('plugin.json', [{ id: 'G', file: 'greet.mjs', name: 'Greet', loadTimeoutMs: 200 }])
          .then(() => temp.write('greet.mjs', 'await new Promise(() => {});\nexport const Greet = () => 1;')),
      'GLEAN_LOAD_FAILED',
    ],
    ['a change of kind', (temp) => temp.write('greet.mjs', 'export const Greet = 42;'), 'GLEAN_KIND_CHANGED'],
    [
      'an invalid config',
      (temp) => temp.write('plugin.json', [{ id: 'G', file: 7, name: 'Greet' }]),
      'GLEAN_CONFIG_INVALID',
    ],
    [
      'a half-written config',
      (temp) => temp.write('plugin.json', '[{ "id": "G", "file": "gre'),
      'GLEAN_CONFIG_INVALID',
    ],
  ];

  for (const [what, breakIt, code] of failures) {
    it(`keeps the old version serving after ${what} (${code}), and applies the next valid change`, async () => {
      const temp = await tempDir();
      await temp.write('greet.mjs', greeter('v1'));
      const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet' }] });
      const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
      const baseline = threadCount();

      await breakIt(temp);
      const emitted = nextEvent<GleanError>(glean, 'error');
      await expect(glean.reloadConfig()).rejects.toMatchObject({ code });
      expect(await emitted).toMatchObject({ code });
      expect(await greet('x')).toBe('v1:x');
      expect(glean.status()['G']!.state).toBe('ready');
      if (code !== 'GLEAN_CONFIG_INVALID') expect(glean.status()['G']!.lastError).toMatchObject({ code });
      await threadsBackTo(baseline);

      await temp.write('plugin.json', [{ id: 'G', file: 'greet.mjs', name: 'Greet' }]);
      await temp.write('greet.mjs', greeter('v2'));
      await glean.reloadConfig();
      expect(await greet('y')).toBe('v2:y');
    });
  }

  it('rejects loadConfig on a failed first load and leaves no thread running', async () => {
    const { glean, baseline } = await startGlean({
      files: { 'good.mjs': greeter('v1'), 'bad.mjs': 'export const Nope = 1;' },
      config: [
        { id: 'Good', file: 'good.mjs', name: 'Greet', threads: 2 },
        { id: 'Bad', file: 'bad.mjs', name: 'Greet' },
      ],
      load: false,
    });
    await expect(glean.loadConfig()).rejects.toMatchObject({ code: 'GLEAN_SYMBOL_NOT_FOUND', id: 'Bad' });
    await threadsBackTo(baseline);
    await expect(glean.reloadAndWatch('Good')).rejects.toMatchObject({ code: 'GLEAN_NOT_CONFIGURED' });
  });
});

describe('threads', () => {
  it('returns to the same OS thread count after 50 reloads, and to the baseline after close()', async () => {
    const baseline = threadCount();
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v0'));
    const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet', threads: 2 }] });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    expect(await greet('x')).toBe('v0:x');
    const serving = threadCount();
    for (let i = 1; i <= 50; i++) {
      await temp.write('greet.mjs', greeter(`v${i}`));
      await glean.reloadConfig();
      expect(await greet('x')).toBe(`v${i}:x`);
    }
    await threadsBackTo(serving);
    await glean.close();
    await threadsBackTo(baseline);
    await expect(greet('x')).rejects.toMatchObject({ code: 'GLEAN_CLOSED' });
    // Fifty reloads one after another: about 10 s alone, past the default 30 s on a loaded 2-core machine.
  }, 90_000);

  it('keeps one spare set of threads started ahead of time, or none with prewarm: false', async () => {
    const baseline = threadCount();
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v1'));
    const { glean: warm } = await startGlean({
      temp,
      config: [{ id: 'G', file: 'greet.mjs', name: 'Greet', threads: 2 }],
    });
    const warmThreads = threadCount() - baseline;
    await warm.close();
    await threadsBackTo(baseline);
    const { glean: cold } = await startGlean({
      temp,
      config: [{ id: 'G', file: 'greet.mjs', name: 'Greet', threads: 2 }],
      prewarm: false,
    });
    const coldThreads = threadCount() - baseline;
    // Each worker thread is one or more OS threads; the spare doubles them.
    expect(warmThreads).toBe(2 * coldThreads);
    await temp.write('greet.mjs', greeter('v2'));
    await cold.reloadConfig();
    expect(await (await cold.reloadAndWatch<(name: string) => Promise<string>>('G'))('x')).toBe('v2:x');
    await threadsBackTo(baseline + coldThreads);
  });

  it('converges on the last of many quick changes and leaves no worker behind', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', greeter('v0'));
    const { glean } = await startGlean({ temp, config: [{ id: 'G', file: 'greet.mjs', name: 'Greet' }], watch: true });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    expect(await greet('x')).toBe('v0:x');
    const serving = threadCount();
    for (let i = 1; i <= 20; i++) await temp.write('greet.mjs', greeter(`v${i}`));
    await until(async () => (await greet('x')) === 'v20:x', 'the last version to answer');
    await until(() => glean.status()['G']!.state === 'ready', 'no reload in progress');
    await threadsBackTo(serving);
  });
});
