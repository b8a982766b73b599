/**
 * A canary under attack, with real threads and real files: a rollback that lands while a generation
 * is loading, aborted calls that replace its workers, and a config edit of its rollout mid-streak.
 */
import { describe, expect, it } from 'vitest';
import { type RetireEvent, withOptions } from '@glean/core';
import { recordEvents } from './helpers/faults.js';
import { CANARY, STABLE, canaryEntry } from './helpers/canary.js';
import { startGlean } from './helpers/glean.js';
import { nextEvent, tempDir, until } from './helpers/index.js';

type Which = (n?: number) => Promise<string>;

/** A plugin whose import waits until the file `gate` exists: a load the test lets finish when it likes. */
function gatedLoad(gate: string): string {
  return [
    `import { existsSync } from 'node:fs';`,
    `while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 10));`,
    `export function which() { return 'bar'; }`,
    '',
  ].join('\n');
}

describe('a rollback during a generation', () => {
  it('still promotes the canary the config edit names when glean.rollback() lands while the edit loads: the id serves on live threads', async () => {
    const temp = await tempDir();
    const gate = temp.path('gate');
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY, 'bar.mjs': gatedLoad(gate) },
      config: [canaryEntry({ weight: 50 })],
    });
    const handle = await glean.reloadAndWatch<Which>('Foo');
    const retired = recordEvents(glean, 'retire');
    const oldStable = nextEvent<RetireEvent>(glean, 'retire', ({ version }) => version.version === '1.0');
    // Promotion of Foo's canary, and a new id whose load waits at the gate: the switch waits with it.
    await temp.write('plugin.json', [
      canaryEntry(undefined, { file: 'v2.mjs', version: '2.0' }),
      { id: 'Bar', file: 'bar.mjs', name: 'which' },
    ]);
    const reloaded = glean.reloadConfig();
    await until(() => glean.status()['Foo']?.state === 'loading', 'the promotion to be loading');
    await glean.rollback('Foo');
    await temp.write('gate', '');
    await reloaded;
    expect(glean.status()['Foo']).toMatchObject({ version: '2.0', canary: undefined });
    await oldStable;
    for (let i = 0; i < 20; i++) expect(await handle()).toBe('v2');
    expect(glean.status()['Foo']?.threads.length).toBeGreaterThan(0);
    expect(retired.map(({ version }) => version.version)).not.toContain('2.0');
  });
});

describe('the crash streak', () => {
  it('does not count a worker replaced after its caller aborted as a crash of the canary', async () => {
    const { glean } = await startGlean({
      files: {
        'v1.mjs': STABLE,
        // Busy for longer than the liveness ping after an abort waits: each aborted call replaces the worker.
        'v2.mjs': `export function which() { const end = Date.now() + 1500; while (Date.now() < end); return 'v2'; }\n`,
      },
      config: [canaryEntry({ weight: 0, intervalMs: 600_000 })],
    });
    const handle = await glean.reloadAndWatch<Which>('Foo');
    const rollbacks = recordEvents(glean, 'rollback');
    const crashes = recordEvents(glean, 'crash');
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const call = withOptions(handle, { version: '2.0', signal: controller.signal })();
      setTimeout(() => controller.abort(), 50);
      await expect(call).rejects.toMatchObject({ code: 'GLEAN_ABORTED' });
      await until(() => crashes.length > i, `the replacement of the aborted call's worker ${i + 1}`);
      await until(
        () => glean.status()['Foo']?.canary?.threads.some(({ ready }) => ready) === true,
        `a ready canary worker after ${i + 1} (${JSON.stringify(rollbacks.map((r) => r.detail))})`,
      );
    }
    expect(rollbacks).toEqual([]);
    expect(glean.status()['Foo']?.canary?.state).toBe('running');
  });
});

describe('a config edit of the rollout', () => {
  it('keeps the crash streak: four crashes, a weight edit, and a fifth roll the canary back', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': `export function which() { process.exit(3); }\n` },
      config: [canaryEntry({ weight: 0, intervalMs: 600_000 })],
    });
    const handle = await glean.reloadAndWatch<Which>('Foo');
    const rollbacks = recordEvents(glean, 'rollback');
    const crashes = recordEvents(glean, 'crash');
    const crashOnce = async (): Promise<void> => {
      const before = crashes.length;
      await expect(withOptions(handle, { version: '2.0' })()).rejects.toMatchObject({ code: 'GLEAN_PLUGIN_CRASHED' });
      await until(() => crashes.length > before, 'the crash said');
    };
    for (let i = 0; i < 4; i++) await crashOnce();
    await temp.write('plugin.json', [canaryEntry({ weight: 1, intervalMs: 600_000 })]);
    await glean.reloadConfig();
    expect(glean.status()['Foo']?.canary?.weight).toBe(1);
    await crashOnce();
    expect(rollbacks).toMatchObject([{ id: 'Foo', version: '2.0', reason: 'crashes' }]);
  });
});
