/**
 * A config's `activateAt`, with real files and worker threads: a change read before the time loads
 * and readies its new versions at once, keeps the current ones serving, and switches at the time; one
 * read after it switches once ready and says it was late. A failed load switches nothing; close()
 * and a newer change stop a change that waits.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { type ActivateEvent, ErrorCode, type GleanError, type ReloadEvent, type RetireEvent } from '@glean/core';
import { configMap, nextEvent, tempDir, threadsBackTo, until, type TempDir } from './helpers/index.js';
import { recordEvents } from './helpers/faults.js';
import { startGlean } from './helpers/glean.js';
import { rejectionOf } from './helpers/errors.js';

/** A plugin that answers with its tag, and leaves `<tag>.loaded` beside itself once a worker imported it, holding the wall-clock time (`Date.now()`) of that import. */
const greeter = (tag: string): string => `
import { writeFileSync } from 'node:fs';
writeFileSync(new URL('./${tag}.loaded', import.meta.url), String(Date.now()));
export function Greet(name) {
  return '${tag}:' + name;
}
`;

/** The object form naming `file` for id G, with an `activateAt` when given. */
const configOf = (file: string, activateAt?: string, options: Record<string, unknown> = {}): object => ({
  ...(activateAt !== undefined && { activateAt }),
  plugins: [{ id: 'G', file, name: 'Greet', ...options }],
});

/**
 * How far ahead a change's activateAt is set when the test proves an on-time switch (`lateMs` 0): room for
 * reading the config and starting the new version's worker on a loaded 2-core machine, where 2 s was not.
 */
const ON_TIME_MS = 6000;

/** `ms` from now as an RFC 3339 time (`toISOString()`), and as epoch ms. */
function inMs(ms: number): { text: string; epochMs: number } {
  const epochMs = Date.now() + ms;
  return { text: new Date(epochMs).toISOString(), epochMs };
}

/** A folder holding v1.mjs, v2.mjs and v3.mjs. */
async function greeters(): Promise<TempDir> {
  const temp = await tempDir();
  for (const tag of ['v1', 'v2', 'v3']) await temp.write(`${tag}.mjs`, greeter(tag));
  return temp;
}

const loaded = (temp: TempDir, tag: string): Promise<void> =>
  until(() => existsSync(temp.path(`${tag}.loaded`)), `${tag} to be loaded in a worker`);

describe('activateAt', () => {
  it('early: the new version is ready before the time, calls answer the old one until it, then the new', async () => {
    const temp = await greeters();
    const { glean } = await startGlean({ temp, config: configOf('v1.mjs') });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    const reloads = recordEvents(glean, 'reload');

    const at = inMs(ON_TIME_MS);
    await temp.write('plugin.json', configOf('v2.mjs', at.text));
    const activated = nextEvent<ActivateEvent>(glean, 'activate', undefined, 2 * ON_TIME_MS);
    const reloaded = glean.reloadConfig().then(() => Date.now());
    await loaded(temp, 'v2');
    expect(await greet('a')).toBe('v1:a');
    // Still before the time: what the test proves holds only if the machine loaded v2 in under ON_TIME_MS.
    expect(Date.now()).toBeLessThan(at.epochMs);
    expect(reloads).toEqual([]);
    // The id waits for its change: loading, and serving from its current version.
    expect(glean.status().G).toMatchObject({ state: 'loading', file: temp.path('v1.mjs') });

    const event = await activated;
    expect(glean.status().G).toMatchObject({ state: 'ready', file: temp.path('v2.mjs') });
    expect(event).toEqual({ activateAt: at.text, switchedAt: expect.any(Number), lateMs: 0 });
    expect(event.switchedAt).toBeGreaterThanOrEqual(at.epochMs);
    expect(await greet('b')).toBe('v2:b');
    expect(await reloaded).toBeGreaterThanOrEqual(at.epochMs);
    expect(reloads.map(({ from, to }) => [from.file, to.file])).toEqual([[temp.path('v1.mjs'), temp.path('v2.mjs')]]);
    expect(glean.activation).toEqual(event);
  });

  it('on time: every id the change touches switches at the time in one step, announced before activate', async () => {
    const temp = await greeters();
    const both = (a: string, b: string, activateAt?: string): object => ({
      ...(activateAt !== undefined && { activateAt }),
      plugins: [
        { id: 'A', file: a, name: 'Greet' },
        { id: 'B', file: b, name: 'Greet' },
      ],
    });
    const { glean } = await startGlean({ temp, config: both('v1.mjs', 'v1.mjs') });
    expect(glean.activation).toBeUndefined();
    const a = await glean.reloadAndWatch<(name: string) => Promise<string>>('A');
    const b = await glean.reloadAndWatch<(name: string) => Promise<string>>('B');
    const order: [string, number][] = [];
    for (const event of ['reload', 'activate'] as const) glean.on(event, () => void order.push([event, Date.now()]));
    // Calls made in the same tick as the first reload event see both new versions.
    const seen = new Promise<string[]>((resolve) =>
      glean.once('reload', () => void Promise.all([a('x'), b('x')]).then(resolve)),
    );

    const at = inMs(ON_TIME_MS);
    await temp.write('plugin.json', both('v2.mjs', 'v3.mjs', at.text));
    await glean.reloadConfig();
    expect(order.map(([event]) => event)).toEqual(['reload', 'reload', 'activate']);
    for (const [, when] of order) expect(when).toBeGreaterThanOrEqual(at.epochMs);
    expect(await seen).toEqual(['v2:x', 'v3:x']);
    expect(glean.activation).toEqual({ activateAt: at.text, switchedAt: expect.any(Number), lateMs: 0 });

    // The same config again, or with the same activateAt and no other change: nothing to switch, nothing said.
    await glean.reloadConfig();
    expect(order).toHaveLength(3);
    // A change without activateAt switches when ready, and says nothing of activation.
    await temp.write('plugin.json', both('v3.mjs', 'v3.mjs'));
    await glean.reloadConfig();
    expect(order.map(([event]) => event)).toEqual(['reload', 'reload', 'activate', 'reload']);
    expect(glean.activation?.activateAt).toBe(at.text);
  });

  it('late: a time already past switches as soon as the new version is ready, and says how late', async () => {
    const temp = await greeters();
    const { glean } = await startGlean({ temp, config: configOf('v1.mjs') });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    const activated = nextEvent<ActivateEvent>(glean, 'activate');

    const at = inMs(-60_000);
    await temp.write('plugin.json', configOf('v2.mjs', at.text));
    await glean.reloadConfig();
    expect(await greet('a')).toBe('v2:a');
    const event = await activated;
    expect(event.activateAt).toBe(at.text);
    expect(event.lateMs).toBeGreaterThanOrEqual(60_000);
    expect(event.switchedAt - event.lateMs).toBe(at.epochMs);
  });

  it('a first load switches at once whatever activateAt says, and sets no activation', async () => {
    const temp = await greeters();
    const { glean } = await startGlean({ temp, config: configOf('v1.mjs', inMs(60_000).text) });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    expect(await greet('a')).toBe('v1:a');
    expect(glean.activation).toBeUndefined();
  });

  it('failed load: the replica keeps the old version, reports the error, and applies the next change', async () => {
    const temp = await greeters();
    await temp.write('broken.mjs', "throw new Error('broken on import');\n");
    const map = await configMap(temp, configOf('v1.mjs'));
    const { glean } = await startGlean({ temp, configPath: map.configPath, watch: true });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    const activations = recordEvents(glean, 'activate');

    const failed = nextEvent<GleanError>(glean, 'error');
    await map.swap(configOf('broken.mjs', inMs(500).text));
    expect((await failed).code).toBe(ErrorCode.LOAD_FAILED);
    expect(await greet('a')).toBe('v1:a');

    const at = inMs(ON_TIME_MS);
    const activated = nextEvent<ActivateEvent>(glean, 'activate', undefined, 2 * ON_TIME_MS);
    await map.swap(configOf('v2.mjs', at.text));
    await loaded(temp, 'v2');
    expect(await greet('b')).toBe('v1:b');
    expect((await activated).activateAt).toBe(at.text);
    expect(await greet('c')).toBe('v2:c');
    expect(activations).toHaveLength(1);
  });

  it('close() while a change waits for its time stops it at once: its new version retired, nothing switched', async () => {
    const temp = await greeters();
    const { glean, baseline } = await startGlean({ temp, config: configOf('v1.mjs'), prewarm: false });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    const events = recordEvents(glean, 'reload');
    const activations = recordEvents(glean, 'activate');

    await temp.write('plugin.json', configOf('v2.mjs', inMs(120_000).text));
    const rejected = rejectionOf(glean.reloadConfig());
    await loaded(temp, 'v2');
    expect(await greet('a')).toBe('v1:a');
    // The test's own timeout (30 s) is far below the 120 s the change would wait.
    await glean.close();
    expect((await rejected).code).toBe(ErrorCode.CLOSED);
    expect(events).toEqual([]);
    expect(activations).toEqual([]);
    await threadsBackTo(baseline);
  });

  it('a newer change while one waits replaces it: the waiting version retires, the newer config applies at its own time', async () => {
    const temp = await greeters();
    const { glean } = await startGlean({ temp, config: configOf('v1.mjs') });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    const reloads = recordEvents(glean, 'reload');
    const retired = recordEvents(glean, 'retire');

    await temp.write('plugin.json', configOf('v2.mjs', inMs(120_000).text));
    const first = glean.reloadConfig();
    await loaded(temp, 'v2');
    const at = inMs(ON_TIME_MS);
    await temp.write('plugin.json', configOf('v3.mjs', at.text));
    const activated = nextEvent<ActivateEvent>(glean, 'activate', undefined, 2 * ON_TIME_MS);
    const second = glean.reloadConfig();
    await until(() => retired.some(({ version }) => version.file === temp.path('v2.mjs')), 'v2 to retire');
    expect(await greet('a')).toBe('v1:a');

    await Promise.all([first, second]);
    expect(await activated).toEqual({ activateAt: at.text, switchedAt: expect.any(Number), lateMs: 0 });
    expect(await greet('b')).toBe('v3:b');
    expect(reloads.map(({ from, to }) => [from.file, to.file])).toEqual([[temp.path('v1.mjs'), temp.path('v3.mjs')]]);
  });

  it('drain-first: the handover begins at the time, so the old version serves until then', async () => {
    const temp = await greeters();
    const { glean } = await startGlean({ temp, config: configOf('v1.mjs', undefined, { handover: 'drain-first' }) });
    const greet = await glean.reloadAndWatch<(name: string) => Promise<string>>('G');
    const retire = nextEvent<RetireEvent>(glean, 'retire');
    const reload = nextEvent<ReloadEvent>(glean, 'reload');

    const at = inMs(1500);
    await temp.write('plugin.json', configOf('v2.mjs', at.text, { handover: 'drain-first' }));
    const reloading = glean.reloadConfig();
    expect(await greet('a')).toBe('v1:a');
    await reloading;
    // v2's worker imported it at the time or after, however late this test looks: the handover waited for activateAt.
    expect(Number(await readFile(temp.path('v2.loaded'), 'utf8'))).toBeGreaterThanOrEqual(at.epochMs);
    expect((await retire).version.file).toBe(temp.path('v1.mjs'));
    expect((await reload).to.file).toBe(temp.path('v2.mjs'));
    expect(await greet('b')).toBe('v2:b');
    // Not ready before the time (the old version had to end first): the switch says how late it came.
    expect(glean.activation?.lateMs).toBe((glean.activation?.switchedAt ?? 0) - at.epochMs);
  });
});
