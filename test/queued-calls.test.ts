/**
 * Calls queued for a worker that dies, when no worker will come back for them (the version drains,
 * or is being replaced): they reject GLEAN_PLUGIN_CRASHED at once, and never wait for drainTimeoutMs
 * or report a failed version.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type RetireEvent } from '@glean/core';
import { CRASH_LIMIT } from '@glean/core/limits';
import { nextEvent } from './helpers/index.js';
import { outcomeOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

interface Api {
  run(): string;
  crash(): never;
  held(exitGate: string): Promise<never>;
}

const plugin = (tag: string): string => `
import { existsSync } from 'node:fs';
export const P = {
  run() { return '${tag}'; },
  crash() { process.exit(1); },
  held(exitGate) { return new Promise(() => { setInterval(() => { if (existsSync(exitGate)) process.exit(9); }, 5); }); },
};
`;

async function start(options: Record<string, unknown> = {}) {
  const entry = (file: string): object[] => [{ id: 'P', file, name: 'P', ...options }];
  const { glean, temp } = await startGlean({
    files: { 'a.mjs': plugin('a1'), 'b.mjs': plugin('b1') },
    config: entry('a.mjs'),
    configName: 'glean.json',
  });
  const config = (file: string): Promise<string> => temp.write('glean.json', entry(file));
  return { temp, glean, config, p: await glean.reloadAndWatch<Api>('P') };
}

describe('a call queued for a worker that dies', () => {
  it('rejects GLEAN_PLUGIN_CRASHED at once when the worker dies while its version drains, and the version retires', async () => {
    const { temp, glean, config, p } = await start({ concurrency: 1, drainTimeoutMs: 20_000 });
    const running = outcomeOf(p.held(temp.path('exit-gate')));
    const queued = outcomeOf(p.run()); // concurrency 1: waits in the version's queue
    await config('b.mjs');
    await glean.reloadConfig();
    expect(await p.run()).toBe('b1');
    const retired = nextEvent<RetireEvent>(glean, 'retire', () => true, 5_000);
    await temp.write('exit-gate', '');
    expect(await running).toEqual({ code: ErrorCode.PLUGIN_CRASHED });
    expect(await queued).toEqual({ code: ErrorCode.PLUGIN_CRASHED });
    await retired; // well before drainTimeoutMs
  });

  it('rejects GLEAN_PLUGIN_CRASHED, not GLEAN_UNAVAILABLE, when the id moves on while the restart waits', async () => {
    const { glean, config, p } = await start();
    // CRASH_LIMIT crashes (not more: the version must not fail) make the next restart wait 800 ms.
    for (let i = 0; i < CRASH_LIMIT; i++) {
      expect(await outcomeOf(p.crash())).toEqual({ code: ErrorCode.PLUGIN_CRASHED });
      if (i < CRASH_LIMIT - 1) expect(await p.run()).toBe('a1');
    }
    const queued = outcomeOf(p.run()); // no worker: waits for the restart
    await config('b.mjs');
    await glean.reloadConfig();
    expect([{ value: 'a1' }, { code: ErrorCode.PLUGIN_CRASHED }]).toContainEqual(await queued);
    expect(glean.status()['P']!.state).toBe('ready');
    expect(await p.run()).toBe('b1');
  });

  it("waits for the restart and is served by it on the version's own code when the file changed before the crash; the reload serves the change", async () => {
    const { temp, glean, p } = await start();
    await temp.write('a.mjs', plugin('a2')); // edited on disk, not reloaded (watch is off)
    expect(await outcomeOf(p.crash())).toEqual({ code: ErrorCode.PLUGIN_CRASHED });
    // Queued for the replacement, which runs the version's bytes from the host: never the edit.
    expect(await p.run()).toBe('a1');
    expect(glean.status()['P']).toMatchObject({ state: 'ready', restarts: 1 });
    await glean.reloadConfig();
    expect(await p.run()).toBe('a2');
  });
});
