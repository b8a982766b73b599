/**
 * Listeners of a Glean's events are the application's code, run inside glean's bookkeeping. One
 * that throws (or an async one that rejects) is reported through the `logger` and changes no
 * outcome: loadConfig() and reloadConfig() resolve as they would have, the swap is applied, the
 * other listeners of the event still run, and the host sees no unhandled rejection.
 */
import { describe, expect, it, vi, type Mock } from 'vitest';
import type { Glean, GleanEvents } from '@glean/core';
import { threadsBackTo, until, type TempDir } from './helpers/index.js';
import { failOnHostUnhandledRejections } from './helpers/faults.js';
import { gleanOver, startGlean } from './helpers/glean.js';

failOnHostUnhandledRejections();

const plugin = (version: string): string => `export function version() { return '${version}'; }\n`;

interface Setup {
  readonly temp: TempDir;
  readonly glean: Glean;
  readonly logger: { warn: Mock; error: Mock };
  readonly baseline: number;
}

/** A Glean over plugin.mjs (id `P`, export `version`) with a mock logger; not loaded yet, closed after the test. */
async function setup(): Promise<Setup> {
  const logger = { warn: vi.fn(), error: vi.fn() };
  const { temp, glean, baseline } = await startGlean({
    files: { 'plugin.mjs': plugin('v1') },
    config: [{ id: 'P', file: 'plugin.mjs', name: 'version' }],
    configName: 'glean.json',
    logger,
    load: false,
  });
  return { temp, glean, logger, baseline };
}

/** A listener's failure, with a message that names no event, so that only glean's report can. */
const failure = (): Error => new Error('the listener failed');

/** Whether `logger.error` was called with something that mentions `event`. */
function reported(logger: Setup['logger'], event: string): boolean {
  return logger.error.mock.calls.some((args: unknown[]) =>
    args.some((arg) => (arg instanceof Error ? `${arg.message}` : String(arg)).includes(event)),
  );
}

/** Waits (bounded) for the logger to report a listener of `event`. */
const reportedSoon = (logger: Setup['logger'], event: string): Promise<void> =>
  until(() => reported(logger, event), `logger.error to report the ${event} listener`, 3000);

/** Edits the plugin and reloads: the old version retires a moment later. */
async function swap(s: Setup): Promise<void> {
  await s.temp.write('plugin.mjs', plugin('v2'));
  await s.glean.reloadConfig();
}

describe('a listener that throws', () => {
  it('on load: loadConfig() resolves, the id serves, and the throw is reported through the logger', async () => {
    const s = await setup();
    const seen: string[] = [];
    s.glean.on('load', () => {
      throw failure();
    });
    s.glean.on('load', (event) => void seen.push(event.id));

    await expect(s.glean.loadConfig()).resolves.toBeUndefined();
    const p = await s.glean.reloadAndWatch<() => string>('P');
    expect(await p()).toBe('v1');
    expect(seen).toEqual(['P']);
    await reportedSoon(s.logger, 'load');
    await s.glean.close();
    await threadsBackTo(s.baseline);
  });

  it('on reload: reloadConfig() resolves, the swap was applied, and the throw is reported through the logger', async () => {
    const s = await setup();
    await s.glean.loadConfig();
    const p = await s.glean.reloadAndWatch<() => string>('P');
    const seen: string[] = [];
    s.glean.on('reload', () => {
      throw failure();
    });
    s.glean.on('reload', (event) => void seen.push(event.id));

    await s.temp.write('plugin.mjs', plugin('v2'));
    await expect(s.glean.reloadConfig()).resolves.toBeUndefined();
    expect(await p()).toBe('v2');
    expect(seen).toEqual(['P']);
    expect(s.glean.status()['P']).toMatchObject({ state: 'ready', lastError: undefined });
    await reportedSoon(s.logger, 'reload');
    await s.glean.close();
    await threadsBackTo(s.baseline);
  });

  it('on retire: the host lives (no unhandled rejection), the retire listeners after it still run, and the throw is reported through the logger', async () => {
    const s = await setup();
    await s.glean.loadConfig();
    const p = await s.glean.reloadAndWatch<() => string>('P');
    const retired: GleanEvents['retire'][0][] = [];
    s.glean.on('retire', () => {
      throw failure();
    });
    s.glean.on('retire', (event) => void retired.push(event));

    await swap(s);
    await until(() => retired.length === 1, 'the second retire listener to run', 3000);
    expect(await p()).toBe('v2');
    await reportedSoon(s.logger, 'retire');
    await s.glean.close();
    await threadsBackTo(s.baseline);
  });
});

describe('an async listener that rejects', () => {
  it.each(['load', 'reload', 'retire'] as const)(
    'on %s: no unhandled rejection, nothing else changes, and the rejection is reported through the logger',
    async (event) => {
      const s = await setup();
      s.glean.on(event, async () => {
        await Promise.resolve();
        throw failure();
      });

      await expect(s.glean.loadConfig()).resolves.toBeUndefined();
      const p = await s.glean.reloadAndWatch<() => string>('P');
      if (event !== 'load') {
        await s.temp.write('plugin.mjs', plugin('v2'));
        await expect(s.glean.reloadConfig()).resolves.toBeUndefined();
      }
      expect(await p()).toBe(event === 'load' ? 'v1' : 'v2');
      // The rejection comes a moment after the event; failOnHostUnhandledRejections checks there was none.
      await reportedSoon(s.logger, event);
      await s.glean.close();
      await threadsBackTo(s.baseline);
    },
  );
});

describe('a listener that closes the Glean', () => {
  it('on load, with watching on: loadConfig() rejects GLEAN_CLOSED and no watcher is left running', async () => {
    const s = await setup();
    const watchers = (): number =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'FSEventWrap').length;
    const before = watchers();
    const glean = gleanOver(s.glean.configPath, { watch: true });
    let closing: Promise<void> | undefined;
    glean.on('load', () => {
      closing = glean.close();
    });

    await expect(glean.loadConfig()).rejects.toMatchObject({ code: 'GLEAN_CLOSED' });
    await closing;
    expect(watchers()).toBe(before);
    await threadsBackTo(s.baseline);
  });
});

describe('close() right after reloadConfig()', () => {
  it('makes that reloadConfig() reject GLEAN_CLOSED when its reload never ran', async () => {
    const s = await setup();
    await s.glean.loadConfig();
    const reloading = s.glean.reloadConfig();
    const closing = s.glean.close();
    await expect(reloading).rejects.toMatchObject({ code: 'GLEAN_CLOSED' });
    await closing;
  });
});

describe('a logger that throws', () => {
  it('changes nothing either: a crash it is told of is still an event, restarted, with no unhandled rejection', async () => {
    const logger = {
      warn: () => {
        throw new Error('the logger failed');
      },
      error: () => {
        throw new Error('the logger failed');
      },
    };
    const { glean } = await startGlean({
      files: { 'dies.mjs': `export function die() { process.exit(3); }\n` },
      config: [{ id: 'D', file: 'dies.mjs', name: 'die' }],
      configName: 'glean.json',
      logger,
    });
    const die = await glean.reloadAndWatch<() => never>('D');
    const crashed = new Promise((resolve) => glean.once('crash', resolve));
    await expect(die()).rejects.toMatchObject({ code: 'GLEAN_PLUGIN_CRASHED' });
    expect(await crashed).toMatchObject({ restarting: true });
  });
});
