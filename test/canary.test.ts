/**
 * Gradual rollout with real threads and real files: a config entry's `canary` takes a share of the
 * id's calls (by routing key, sticky and the same on every replica; at random without one), is
 * analysed every `intervalMs` against the stable version's live figures and rolled back when it
 * misbehaves, steps up its weight while it passes, and is promoted by a config edit that moves it
 * into the entry, reusing its running threads.
 */
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  type CanaryEvent,
  type Glean,
  type PromoteEvent,
  type RetireEvent,
  type RollbackEvent,
  type StalledEvent,
  withOptions,
} from '@glean/core';
import { rejectionOf } from './helpers/errors.js';
import { recordEvents } from './helpers/faults.js';
import { CANARY, STABLE, canaryEntry } from './helpers/canary.js';
import { gleanOver, startGlean } from './helpers/glean.js';
import { nextEvent, tempDir } from './helpers/index.js';

type Which = (n?: number) => Promise<string>;

/** Calls `fn` `count` times, `width` at a time, and counts the answers. */
async function tally(count: number, call: (i: number) => Promise<string>, width = 16): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const answer = await call(next++);
        seen.set(answer, (seen.get(answer) ?? 0) + 1);
      }
    }),
  );
  return seen;
}

/** `share` of `n` trials at probability `p` lies within 4.5 standard deviations of the mean. */
function expectBinomial(hits: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(hits - n * p)).toBeLessThanOrEqual(4.5 * sd + 1);
}

/** A check to call in a loop that waits on a condition: throws `why()` once `ms` have passed, so a regression fails with a message instead of running into the test's timeout. */
function deadline(ms: number, why: () => string): () => void {
  const end = Date.now() + ms;
  return () => {
    if (Date.now() > end) throw new Error(why());
  };
}

describe('routing', () => {
  it.each([1, 5, 50])(
    'sends the share of keyed calls the weight says (weight %i), within binomial bounds',
    async (weight) => {
      const { glean } = await startGlean({
        files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
        config: [canaryEntry({ weight })],
      });
      const foo = await glean.reloadAndWatch<Which>('Foo');
      const n = 2000;
      const seen = await tally(n, (i) => withOptions(foo, { key: `user-${i}` })());
      expectBinomial(seen.get('v2') ?? 0, n, weight / 100);
      expect((seen.get('v1') ?? 0) + (seen.get('v2') ?? 0)).toBe(n);
    },
  );

  it('without a key, sends each call to the canary with its weight as the chance', async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 50 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const n = 1000;
    const seen = await tally(n, () => foo());
    expectBinomial(seen.get('v2') ?? 0, n, 0.5);
  });

  it('is sticky: a key gets the same version on every call, and two replicas on one config route every key alike', async () => {
    const temp = await tempDir();
    const { glean, configPath } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 30 })],
    });
    const replica = gleanOver(configPath);
    await replica.loadConfig();
    const one = await glean.reloadAndWatch<Which>('Foo');
    const two = await replica.reloadAndWatch<Which>('Foo');
    const keys = Array.from({ length: 300 }, (_, i) => `tenant-${i * 7919}`);
    const first = await Promise.all(keys.map((key) => withOptions(one, { key })()));
    const again = await Promise.all(keys.map((key) => withOptions(one, { key })()));
    const other = await Promise.all(keys.map((key) => withOptions(two, { key })()));
    expect(again).toEqual(first);
    expect(other).toEqual(first);
    expect(first).toContain('v1');
    expect(first).toContain('v2');
  });

  it('is monotone: raising the weight by a config edit moves no key from the canary back to the stable', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 10 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
    const at = () => Promise.all(keys.map((key) => withOptions(foo, { key })()));
    const low = await at();
    const threads = glean.status()['Foo']?.canary?.threads.map(({ threadId }) => threadId);
    const raised = nextEvent<CanaryEvent>(glean, 'canary');
    await temp.write('plugin.json', [canaryEntry({ weight: 40 })]);
    await glean.reloadConfig();
    expect(await raised).toMatchObject({ id: 'Foo', version: '2.0', weight: 40 });
    const high = await at();
    for (const [i, answer] of low.entries()) if (answer === 'v2') expect(high[i]).toBe('v2');
    expect(high.filter((answer) => answer === 'v2').length).toBeGreaterThan(low.filter((a) => a === 'v2').length);
    // The same canary version: a weight edit starts no new version.
    expect(glean.status()['Foo']?.canary?.threads.map(({ threadId }) => threadId)).toEqual(threads);
  });

  it('runs a call on the version its `version` option names, and rejects GLEAN_NOT_CONFIGURED for one the id does not run', async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 0 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    expect(await tally(50, () => foo())).toEqual(new Map([['v1', 50]]));
    expect(await withOptions(foo, { version: '2.0' })()).toBe('v2');
    expect(await withOptions(foo, { version: '1.0', key: 'x' })()).toBe('v1');
    const error = await rejectionOf(withOptions(foo, { version: '3.0' })());
    expect(error.code).toBe(ErrorCode.NOT_CONFIGURED);
    expect(error.message).toContain('"3.0"');
    expect(error.message).toContain('"1.0", "2.0"');
  });

  it("pins a handle from reload(id) to the entry's version, never to the canary, and refuses a version override it is not pinned to", async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 100 })],
    });
    const pinned = await glean.reload<Which>('Foo');
    const live = await glean.reloadAndWatch<Which>('Foo');
    expect(await tally(20, () => pinned())).toEqual(new Map([['v1', 20]]));
    expect(await live()).toBe('v2');
    expect((await rejectionOf(withOptions(pinned, { version: '2.0' })())).code).toBe(ErrorCode.NOT_CONFIGURED);
  });

  it("reads a value handle's value from the version its key or version option chooses", async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': `export const limits = { max: 1 };\n`, 'v2.mjs': `export const limits = { max: 2 };\n` },
      config: [canaryEntry({ weight: 50 }, { name: 'limits' })],
    });
    const limits = await glean.reloadAndWatch<{ max: number }>('Foo');
    expect(withOptions(limits, { version: '2.0' }).value).toEqual({ max: 2 });
    expect(withOptions(limits, { version: '1.0' }).value).toEqual({ max: 1 });
    const byKey = Array.from({ length: 40 }, (_, i) => withOptions(limits, { key: `k${i}` }).value.max);
    expect(new Set(byKey)).toEqual(new Set([1, 2]));
    expect(Array.from({ length: 40 }, (_, i) => withOptions(limits, { key: `k${i}` }).value.max)).toEqual(byKey);
  });

  it('starts the canary with its share of the threads, at least one, and grows them as the weight rises', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 25 }, { threads: 4 })],
    });
    expect(glean.status()['Foo']?.threads).toHaveLength(4);
    expect(glean.status()['Foo']?.canary?.threads).toHaveLength(1);
    await temp.write('plugin.json', [canaryEntry({ weight: 50 }, { threads: 4 })]);
    await glean.reloadConfig();
    const grown = async () => glean.status()['Foo']?.canary?.threads.filter(({ ready }) => ready).length === 2;
    await expect.poll(grown, { timeout: 10_000 }).toBe(true);
  });
});

describe('analysis and rollback', () => {
  it('rolls back a canary that throws on one call in ten within one interval, while the stable answers every call', async () => {
    const { glean } = await startGlean({
      files: {
        'v1.mjs': STABLE,
        'v2.mjs': `let n = 0;\nexport function which() { if (++n % 10 === 0) throw new Error('bad ' + n); return 'v2'; }\n`,
      },
      config: [canaryEntry({ weight: 50, intervalMs: 400, minCalls: 100 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const rolledBack = nextEvent<RollbackEvent>(glean, 'rollback');
    const retired = nextEvent<RetireEvent>(glean, 'retire', ({ version }) => version.version === '2.0');
    let done = false;
    void rolledBack.then(() => (done = true));
    const stableErrors: unknown[] = [];
    const started = Date.now();
    // Keyed calls: a key stays on its version, so the stable's answers are known to be the stable's.
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let i = 0; !done && Date.now() - started < 15_000; i++) {
          const key = `${lane}-${i}`;
          await withOptions(foo, { key })().catch((error: unknown) => {
            if (!String(error).includes('bad')) stableErrors.push(error);
          });
        }
      }),
    );
    const event = await rolledBack;
    expect(event).toMatchObject({ id: 'Foo', version: '2.0', reason: 'error-rate' });
    expect(event.figures.canary.calls).toBeGreaterThanOrEqual(100);
    expect(event.figures.canary.errorRate).toBeGreaterThan(5);
    expect(event.figures.stable.errors).toBe(0);
    expect(event.detail).toContain('error rate');
    expect(stableErrors).toEqual([]);
    // At weight 0 at once: every call is the stable's, and the canary's workers retire.
    expect(await tally(100, () => foo())).toEqual(new Map([['v1', 100]]));
    await retired;
    const status = glean.status()['Foo']?.canary;
    expect(status).toMatchObject({ state: 'rolled-back', weight: 0, threads: [] });
    expect(status?.rollback).toMatchObject({ reason: 'error-rate' });
  });

  it('does not roll back a canary whose errors the stable shares (a downstream outage)', async () => {
    const flaky = (tag: string) =>
      `let n = 0;\nexport function which() { if (++n % 2 === 0) throw new Error('down'); return '${tag}'; }\n`;
    const { glean } = await startGlean({
      files: { 'v1.mjs': flaky('v1'), 'v2.mjs': flaky('v2') },
      // At 20 %, the stable has four times the canary's calls: always enough to compare with.
      // p99Factor out of reach: this is about error rates, and a loaded machine's latency is noise.
      config: [canaryEntry({ weight: 20, intervalMs: 200, minCalls: 50, p99Factor: 1000 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const events = recordEvents(glean, 'rollback');
    // Three analyses with enough calls each.
    const overdue = deadline(10_000, () => `no analysis came: ${JSON.stringify(glean.status()['Foo']?.canary)}`);
    for (let round = 0; round < 3; round++) {
      const analysed = glean.status()['Foo']?.canary?.lastAnalysis?.at ?? 0;
      while ((glean.status()['Foo']?.canary?.lastAnalysis?.at ?? 0) === analysed) {
        overdue();
        await tally(100, (i) => withOptions(foo, { key: `${round}-${i}` })().catch(() => 'error'));
      }
      expect(glean.status()['Foo']?.canary?.rollback?.detail).toBeUndefined();
    }
    expect(events).toEqual([]);
    expect(glean.status()['Foo']?.canary?.state).toBe('running');
  });

  it('rolls back a canary whose workers crash five times in a row at once, without waiting for an analysis', async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': `export function which() { process.exit(3); }\n` },
      config: [canaryEntry({ weight: 0, intervalMs: 600_000 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const rolledBack = nextEvent<RollbackEvent>(glean, 'rollback');
    const crashes = recordEvents(glean, 'crash');
    let event: RollbackEvent | undefined;
    void rolledBack.then((e) => (event = e));
    const overdue = deadline(10_000, () => `no rollback after ${crashes.length} crashes`);
    while (event === undefined) {
      overdue();
      const error = await rejectionOf(withOptions(foo, { version: '2.0' })());
      if (event === undefined) expect([ErrorCode.PLUGIN_CRASHED, ErrorCode.NOT_CONFIGURED]).toContain(error.code);
    }
    expect(event).toMatchObject({ id: 'Foo', version: '2.0', reason: 'crashes' });
    expect(crashes.filter(({ ids }) => ids.includes('Foo'))).toHaveLength(5);
    expect(await foo()).toBe('v1');
  });

  it('rolls back a canary whose p99 is over maxP99Ms', async () => {
    const { glean } = await startGlean({
      files: {
        'v1.mjs': STABLE,
        'v2.mjs': `export async function which() { await new Promise((r) => setTimeout(r, 30)); return 'v2'; }\n`,
      },
      config: [canaryEntry({ weight: 100, intervalMs: 300, minCalls: 20, maxP99Ms: 10 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const rolledBack = nextEvent<RollbackEvent>(glean, 'rollback');
    let done = false;
    void rolledBack.then(() => (done = true));
    const overdue = deadline(10_000, () => `no rollback: ${JSON.stringify(glean.status()['Foo']?.canary)}`);
    while (!done) {
      overdue();
      await tally(20, () => foo(), 20);
    }
    const event = await rolledBack;
    expect(event.reason).toBe('latency');
    expect(event.figures.canary.p99Ms).toBeGreaterThan(10);
  });

  it('rolls back by hand with glean.rollback(), and then rejects GLEAN_NO_CANARY', async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 100 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    expect(await foo()).toBe('v2');
    const rolledBack = nextEvent<RollbackEvent>(glean, 'rollback');
    await glean.rollback('Foo');
    expect(await rolledBack).toMatchObject({ reason: 'manual' });
    expect(await foo()).toBe('v1');
    expect(() => glean.hold('Foo')).toThrow(expect.objectContaining({ code: ErrorCode.NO_CANARY }));
    await expect(glean.rollback('Foo')).rejects.toMatchObject({ code: ErrorCode.NO_CANARY });
    await expect(glean.rollback('Nope')).rejects.toMatchObject({ code: ErrorCode.NOT_CONFIGURED });
  });

  it('keeps a rolled-back canary rolled back while the config names its version, its file edited or not, and starts the next canary version the config names', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY, 'v3.mjs': `export function which() { return 'v3'; }\n` },
      config: [canaryEntry({ weight: 100 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    await glean.rollback('Foo');
    await temp.write('plugin.json', [canaryEntry({ weight: 50 })]);
    await glean.reloadConfig();
    expect(glean.status()['Foo']?.canary?.state).toBe('rolled-back');
    // Its file saved with other code under the same version: still the version that was rolled back.
    await temp.write('v2.mjs', `export function which() { return 'v2, edited'; }\n`);
    await glean.reloadConfig();
    expect(glean.status()['Foo']?.canary?.state).toBe('rolled-back');
    expect(await tally(20, () => foo())).toEqual(new Map([['v1', 20]]));
    const started = nextEvent<CanaryEvent>(glean, 'canary');
    await temp.write('plugin.json', [canaryEntry({ weight: 100, file: 'v3.mjs', version: '3.0' })]);
    await glean.reloadConfig();
    expect(await started).toMatchObject({ version: '3.0', weight: 100 });
    expect(await foo()).toBe('v3');
  });

  it('says a canary stalled when it has too few calls to be judged for progressDeadlineMs', async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ steps: [5, 50], stepMs: 100, intervalMs: 100, minCalls: 1000, progressDeadlineMs: 300 })],
      load: false,
    });
    const stalledSoon = nextEvent<StalledEvent>(glean, 'stalled');
    await glean.loadConfig();
    const stalled = await stalledSoon;
    expect(stalled).toMatchObject({ id: 'Foo', version: '2.0', weight: 5 });
    expect(stalled.waitedMs).toBeGreaterThanOrEqual(300);
    expect(glean.status()['Foo']?.canary?.weight).toBe(5);
  });
});

describe('steps', () => {
  // p99Factor out of the way: on a loaded machine the canary's single thread can answer slower than the stable's for a moment.
  const stepped = { steps: [10, 50, 90], stepMs: 150, intervalMs: 100, minCalls: 10, p99Factor: 1000 };

  /** Calls until the canary's weight is `weight`, 10 s at most. */
  async function driveTo(glean: Glean, weight: number): Promise<void> {
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const deadline = Date.now() + 10_000;
    while (glean.status()['Foo']?.canary?.weight !== weight) {
      if (Date.now() > deadline)
        throw new Error(`canary never reached weight ${weight}: ${JSON.stringify(glean.status()['Foo']?.canary)}`);
      await tally(40, (i) => withOptions(foo, { key: String(i) })());
    }
  }

  it('walks up its steps while its analysis passes, saying each step, and stops at the last', async () => {
    const { glean } = await startGlean({
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry(stepped)],
    });
    const weights = recordEvents(glean, 'canary');
    expect(glean.status()['Foo']?.canary).toMatchObject({ weight: 10, step: 0, steps: [10, 50, 90] });
    await driveTo(glean, 90);
    expect(weights.map(({ weight }) => weight)).toEqual([50, 90]);
    expect(glean.status()['Foo']?.canary?.step).toBe(2);
  });

  it('holds at its step with glean.hold(), through an edit of its rollout, and moves on after hold(id, false)', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry(stepped)],
    });
    glean.hold('Foo');
    expect(glean.status()['Foo']?.canary?.state).toBe('held');
    await temp.write('plugin.json', [canaryEntry({ ...stepped, steps: [10, 50, 95] })]);
    await glean.reloadConfig();
    expect(glean.status()['Foo']?.canary).toMatchObject({ state: 'held', steps: [10, 50, 95] });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    // Passing analyses, well past stepMs: no step.
    const overdue = deadline(
      10_000,
      () => `three passing analyses not seen: ${JSON.stringify(glean.status()['Foo']?.canary)}`,
    );
    for (let passes = 0; passes < 3; ) {
      overdue();
      const before = glean.status()['Foo']?.canary?.lastAnalysis?.at;
      await tally(40, (i) => withOptions(foo, { key: String(i) })());
      const last = glean.status()['Foo']?.canary?.lastAnalysis;
      if (last !== undefined && last.at !== before && last.verdict === 'pass') passes++;
    }
    expect(glean.status()['Foo']?.canary?.weight).toBe(10);
    glean.hold('Foo', false);
    await driveTo(glean, 50);
  });

  it('begins again at the first step when the host restarts', async () => {
    const temp = await tempDir();
    const { glean, configPath } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry(stepped)],
    });
    await driveTo(glean, 50);
    await glean.close();
    const restarted = gleanOver(configPath);
    await restarted.loadConfig();
    expect(restarted.status()['Foo']?.canary).toMatchObject({ weight: 10, step: 0, state: 'running' });
  });
});

describe('promotion and ending', () => {
  it('promotes by a config edit with no reload: the canary’s threads serve every call, and the old stable retires', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 20 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    const canaryThreads = glean.status()['Foo']?.canary?.threads.map(({ threadId }) => threadId);
    expect(canaryThreads).toHaveLength(1);
    const started = recordEvents(glean, 'load');
    const promoted = nextEvent<PromoteEvent>(glean, 'promote');
    const retired = nextEvent<RetireEvent>(glean, 'retire', ({ version }) => version.version === '1.0');
    await temp.write('plugin.json', [canaryEntry(undefined, { file: 'v2.mjs', version: '2.0' })]);
    await glean.reloadConfig();
    expect(await promoted).toMatchObject({ id: 'Foo', version: '2.0' });
    expect(glean.status()['Foo']).toMatchObject({ version: '2.0', canary: undefined });
    expect(glean.status()['Foo']?.threads.map(({ threadId }) => threadId)).toEqual(canaryThreads);
    expect(started).toEqual([]);
    expect(await tally(50, () => foo())).toEqual(new Map([['v2', 50]]));
    await retired;
  });

  it('ends a canary the config drops: its workers retire and every call is the stable’s', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 100 })],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    expect(await foo()).toBe('v2');
    const ended = nextEvent<CanaryEvent>(glean, 'canary');
    const retired = nextEvent<RetireEvent>(glean, 'retire', ({ version }) => version.version === '2.0');
    await temp.write('plugin.json', [canaryEntry(undefined)]);
    await glean.reloadConfig();
    expect(await ended).toMatchObject({ version: '2.0', weight: 0 });
    expect(await foo()).toBe('v1');
    await retired;
    expect(glean.status()['Foo']?.canary).toBeUndefined();
  });

  it('changes nothing when the canary fails to load: the error is the load’s, and the stable keeps serving alone', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': `export function which( {\n` },
      config: [canaryEntry(undefined)],
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    await temp.write('plugin.json', [canaryEntry({ weight: 50 })]);
    await expect(glean.reloadConfig()).rejects.toMatchObject({ code: ErrorCode.LOAD_FAILED });
    expect(glean.status()['Foo']?.canary).toBeUndefined();
    expect(await tally(20, () => foo())).toEqual(new Map([['v1', 20]]));
  });

  it('reloads the canary when its file changes on disk, as for any plugin file', async () => {
    const temp = await tempDir();
    const { glean } = await startGlean({
      temp,
      files: { 'v1.mjs': STABLE, 'v2.mjs': CANARY },
      config: [canaryEntry({ weight: 100 })],
      watch: true,
    });
    const foo = await glean.reloadAndWatch<Which>('Foo');
    expect(await foo()).toBe('v2');
    const restarted = nextEvent<CanaryEvent>(glean, 'canary');
    await temp.write('v2.mjs', `export function which() { return 'v2 fixed'; }\n`);
    await restarted;
    expect(await foo()).toBe('v2 fixed');
  });
});
