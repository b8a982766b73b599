/**
 * What status() says at the moments an application reads it: inside the listeners of a switch, after
 * a failed reload was undone in the config, and after a handle was refused a call.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type PluginStatus } from '@glean/core';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

const tagged = (tag: string): string =>
  `export const tag = () => ${JSON.stringify(tag)};\nexport function die() { process.exit(3); }\n`;

describe('status()', () => {
  it('inside a load or reload listener, shows the switch complete: the id ready on the version the event names', async () => {
    const { glean, temp } = await startGlean({
      files: { 'a.mjs': tagged('a1') },
      config: [{ id: 'A', file: 'a.mjs', name: 'tag', version: '1' }],
      load: false,
    });
    const seen: { event: string; status: PluginStatus | undefined; to: string }[] = [];
    glean.on('load', ({ id, to }) => seen.push({ event: 'load', status: glean.status()[id], to: to.version }));
    glean.on('reload', ({ id, to }) => seen.push({ event: 'reload', status: glean.status()[id], to: to.version }));
    await glean.loadConfig();
    await temp.write('a.mjs', tagged('a2'));
    await temp.write('plugin.json', [{ id: 'A', file: 'a.mjs', name: 'tag', version: '2' }]);
    await glean.reloadConfig();

    expect(seen.map(({ event, status, to }) => [event, status?.state, status?.version, to])).toEqual([
      ['load', 'ready', '1', '1'],
      ['reload', 'ready', '2', '2'],
    ]);
  });

  it('forgets a failed reload’s error once the config names what serves again', async () => {
    const { glean, temp } = await startGlean({
      files: { 'a.mjs': tagged('a1') },
      config: [{ id: 'A', file: 'a.mjs', name: 'tag' }],
    });
    await temp.write('plugin.json', [{ id: 'A', file: 'a.mjs', name: 'missing' }]);
    expect((await rejectionOf(glean.reloadConfig())).code).toBe(ErrorCode.SYMBOL_NOT_FOUND);
    expect(glean.status()['A']?.lastError).toMatchObject({ code: ErrorCode.SYMBOL_NOT_FOUND });

    await temp.write('plugin.json', [{ id: 'A', file: 'a.mjs', name: 'tag' }]);
    await glean.reloadConfig();
    expect(glean.status()['A']).toMatchObject({ state: 'ready', lastError: undefined });
  });

  it('a call refused for a released handle counts, but does not hide the plugin’s last failure', async () => {
    const { glean } = await startGlean({
      files: { 'a.mjs': tagged('a1') },
      config: [{ id: 'A', file: 'a.mjs', name: 'die' }],
      prewarm: false,
    });
    const die = await glean.reloadAndWatch<() => never>('A');
    const pinned = await glean.reload<() => never>('A');
    expect((await rejectionOf(die())).code).toBe(ErrorCode.PLUGIN_CRASHED);
    await glean.release(pinned);
    expect((await rejectionOf(pinned())).code).toBe(ErrorCode.RELEASED);
    expect(glean.status()['A']).toMatchObject({ calls: 2, errors: 2, lastError: { code: ErrorCode.PLUGIN_CRASHED } });
  });
});
