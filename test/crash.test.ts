/**
 * A plugin must never take the host down. Each fault here runs in a real worker thread: the call
 * settles with a coded error, other plugins keep answering, the faulty version gets a new worker,
 * a `crash` event says what happened, and close() leaves no thread behind.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, GleanError, type CrashEvent, type ReloadEvent } from '@glean/core';
import { CRASH_LIMIT } from '@glean/core/limits';
import { nextEvent, tempDir, threadsBackTo, until } from './helpers/index.js';
import {
  expectThreadsBackAfterClose,
  failOnHostUnhandledRejections,
  faultySetup,
  recordEvents,
  type FaultySetup,
} from './helpers/faults.js';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

failOnHostUnhandledRejections();

interface FaultyApi {
  threadId(): number;
  exit(code: number): never;
  slow(ms: number): Promise<number>;
  throwLater(): string;
  rejectLater(): string;
  hog(): never;
}

/** Every fault a plugin can commit, one method each; `threadId` tells which worker answered. */
const FAULTY = `
import { threadId } from 'node:worker_threads';
export const Faulty = {
  threadId() { return threadId; },
  exit(code) { process.exit(code); },
  slow(ms) { return new Promise((resolve) => setTimeout(resolve, ms, threadId)); },
  throwLater() { setTimeout(() => { throw new Error('thrown in a timer'); }, 20); return 'scheduled'; },
  rejectLater() { setTimeout(() => { Promise.reject(new Error('rejected with no handler')); }, 20); return 'scheduled'; },
  hog() { const kept = []; for (;;) kept.push(new Array(100_000).fill(Math.random())); },
};
`;

/** The faulty plugin after its author fixed it. */
const FIXED = `
import { threadId } from 'node:worker_threads';
export const Faulty = {
  threadId() { return threadId; },
  exit(code) { return 'fixed:' + code; },
};
`;

type Setup = FaultySetup<FaultyApi>;

/** A Glean serving the faulty plugin (with `options`) and a healthy one, each in a worker of its own. */
const setup = (options: Record<string, unknown> = {}): Promise<Setup> => faultySetup<FaultyApi>(FAULTY, options);

async function expectServesAgainOnNewThread({ glean, faulty }: Setup, crashedThread: number): Promise<void> {
  const answeredBy = await faulty.threadId();
  expect(answeredBy).not.toBe(crashedThread);
  const status = glean.status()['Faulty']!;
  expect(status.state).toBe('ready');
  expect(status.restarts).toBe(1);
  expect(status.threads.map((thread) => thread.threadId)).toEqual([answeredBy]);
}

function expectCrashEvent(event: CrashEvent | undefined, crashedThread: number): void {
  expect(event).toBeDefined();
  expect(event!.ids).toEqual(['Faulty']);
  expect(event!.threadId).toBe(crashedThread);
  expect(event!.failed).toBe(false);
  expect(event!.error).toBeInstanceOf(GleanError);
  expect(event!.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
}

describe('a worker that dies during a call', () => {
  it.each([1, 0])(
    'rejects the call GLEAN_PLUGIN_CRASHED naming the id on process.exit(%i), and a new worker serves next',
    async (exitCode) => {
      const s = await setup();
      const crashedThread = await s.faulty.threadId();
      const crashed = nextEvent<CrashEvent>(s.glean, 'crash');

      const error = await rejectionOf(s.faulty.exit(exitCode));
      expect(error.code).toBe(ErrorCode.PLUGIN_CRASHED);
      expect(error.exitCode).toBe(exitCode);
      expect(error.id).toBe('Faulty');
      expect(error.message).toContain('"Faulty"');
      expect(error.message).toContain(`exited with code ${exitCode}`);

      expect(await s.healthy('still here')).toBe('still here');
      expectCrashEvent(await crashed, crashedThread);
      await expectServesAgainOnNewThread(s, crashedThread);
      expect(await s.healthy('after restart')).toBe('after restart');
      expect(s.crashes).toHaveLength(1);
      await expectThreadsBackAfterClose(s);
    },
  );

  it('rejects every call in flight on the worker GLEAN_PLUGIN_CRASHED, not only the one that exited', async () => {
    const s = await setup();
    const crashedThread = await s.faulty.threadId();
    const slow = Array.from({ length: 5 }, () => rejectionOf(s.faulty.slow(10_000)));
    const exiting = rejectionOf(s.faulty.exit(1));

    const errors = await Promise.all([...slow, exiting]);
    expect(errors.map((error) => error.code)).toEqual(Array(6).fill(ErrorCode.PLUGIN_CRASHED));
    expect(errors.map((error) => error.exitCode)).toEqual(Array(6).fill(1));
    expect(await s.healthy('still here')).toBe('still here');

    await until(() => s.crashes.length === 1, 'the crash event');
    expectCrashEvent(s.crashes[0], crashedThread);
    await expectServesAgainOnNewThread(s, crashedThread);
    await expectThreadsBackAfterClose(s);
  });

  it('rejects the call GLEAN_PLUGIN_CRASHED when the worker runs out of its resourceLimits heap, and a new worker serves next', async () => {
    const s = await setup({ resourceLimits: { maxOldGenerationSizeMb: 32 } });
    const crashedThread = await s.faulty.threadId();

    const error = await rejectionOf(s.faulty.hog());
    expect(error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(error.id).toBe('Faulty');
    expect(await s.healthy('still here')).toBe('still here');

    await until(() => s.crashes.length === 1, 'the crash event');
    expectCrashEvent(s.crashes[0], crashedThread);
    await expectServesAgainOnNewThread(s, crashedThread);
    await expectThreadsBackAfterClose(s);
  });
});

describe('a worker that dies between calls', () => {
  it.each([
    ['an uncaught exception thrown in a timer', 'throwLater'],
    ['an unhandled rejection', 'rejectLater'],
  ] as const)('replaces the worker after %s and emits crash', async (_fault, method) => {
    const s = await setup();
    const crashedThread = await s.faulty.threadId();
    const crashed = nextEvent<CrashEvent>(s.glean, 'crash');

    expect(await s.faulty[method]()).toBe('scheduled');
    const event = await crashed;
    expectCrashEvent(event, crashedThread);
    expect(event.error.id).toBe('Faulty');

    expect(await s.healthy('still here')).toBe('still here');
    await expectServesAgainOnNewThread(s, crashedThread);
    await expectThreadsBackAfterClose(s);
  });
});

describe('a crash loop', () => {
  it(`marks the version failed after more than CRASH_LIMIT crashes, rejects GLEAN_UNAVAILABLE at once, and a fixed file plus reloadConfig brings it back`, async () => {
    const s = await setup();
    const codes: string[] = [];
    // Restarts back off (0, 100, 200, 400, 800 ms): the loop ends after about 1.5 s of waiting.
    for (let attempt = 0; attempt < CRASH_LIMIT + 3; attempt++) {
      const error = await rejectionOf(s.faulty.exit(1));
      codes.push(error.code);
      if (error.code !== ErrorCode.PLUGIN_CRASHED) break;
    }
    expect(codes).toEqual([...Array(CRASH_LIMIT + 1).fill(ErrorCode.PLUGIN_CRASHED), ErrorCode.UNAVAILABLE]);
    expect(s.crashes).toHaveLength(CRASH_LIMIT + 1);
    expect(s.crashes.map((crash) => crash.failed)).toEqual([...Array(CRASH_LIMIT).fill(false), true]);
    expect(new Set(s.crashes.map((crash) => crash.threadId)).size).toBe(CRASH_LIMIT + 1);

    const status = s.glean.status()['Faulty']!;
    expect(status.state).toBe('failed');
    expect(status.restarts).toBe(CRASH_LIMIT);
    // A failed version restarts nothing: had the call waited for a worker, it would never settle.
    const unavailable = await rejectionOf(s.faulty.threadId());
    expect(unavailable.code).toBe(ErrorCode.UNAVAILABLE);
    expect(unavailable.id).toBe('Faulty');
    expect(await s.healthy('still here')).toBe('still here');

    await s.temp.write('faulty.mjs', FIXED);
    await s.glean.reloadConfig();
    expect(s.glean.status()['Faulty']!.state).toBe('ready');
    expect(await s.faulty.exit(1)).toBe('fixed:1');
    expect(s.glean.status()['Faulty']!.restarts).toBe(0);
    await expectThreadsBackAfterClose(s);
  });
});

describe('a worker that dies while it loads', () => {
  it('fails loadConfig with GLEAN_LOAD_FAILED when the plugin exits while imported, emits no crash for a version that never served, and leaves no thread', async () => {
    const { glean, baseline } = await startGlean({
      files: { 'exits.mjs': 'process.exit(3);\nexport const Faulty = {};\n' },
      config: [{ id: 'Faulty', file: 'exits.mjs', name: 'Faulty' }],
      configName: 'glean.json',
      load: false,
    });
    const crashes = recordEvents(glean, 'crash');

    const error = await rejectionOf(glean.loadConfig());
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(error.message).toContain('exited with code 3');
    expect(crashes).toEqual([]);
    await glean.close();
    await threadsBackTo(baseline);
  });

  it('counts a replacement worker that dies while it loads as one crash, so the version fails after CRASH_LIMIT + 1 deaths', async () => {
    const marker = (await tempDir()).path('imported-once');
    // Imports fine the first time only: every replacement worker exits while importing it.
    const { glean, faulty, crashes, baseline } = await faultySetup<FaultyApi>(
      `import { existsSync, writeFileSync } from 'node:fs';
if (existsSync(${JSON.stringify(marker)})) process.exit(1);
writeFileSync(${JSON.stringify(marker)}, '');
export const Faulty = { exit(code) { process.exit(code); } };
`,
    );

    expect((await rejectionOf(faulty.exit(1))).code).toBe(ErrorCode.PLUGIN_CRASHED);
    // Restarts back off (0, 100, 200, 400, 800 ms) until the version gives up.
    await until(() => crashes.some((crash) => crash.failed), 'the version to turn failed');
    const threadIds = crashes.map((crash) => crash.threadId);
    expect(new Set(threadIds).size).toBe(threadIds.length);
    expect(crashes[0]!.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(crashes).toHaveLength(CRASH_LIMIT + 1);
    expect(crashes.map((crash) => crash.failed)).toEqual([...Array(CRASH_LIMIT).fill(false), true]);
    expect(glean.status()['Faulty']!.restarts).toBe(CRASH_LIMIT);
    await glean.close();
    await threadsBackTo(baseline);
  });

  it('emits no crash for a replacement worker that close() stops while it loads', async () => {
    const marker = (await tempDir()).path('imported-once');
    // Every import after the first takes 2 s, so close() surely lands while the replacement loads.
    const { glean, faulty, crashes, baseline } = await faultySetup<FaultyApi>(
      `import { existsSync, writeFileSync } from 'node:fs';
if (existsSync(${JSON.stringify(marker)})) await new Promise((resolve) => setTimeout(resolve, 2000));
writeFileSync(${JSON.stringify(marker)}, '');
export const Faulty = { exit(code) { process.exit(code); } };
`,
    );

    expect((await rejectionOf(faulty.exit(1))).code).toBe(ErrorCode.PLUGIN_CRASHED);
    await until(
      () => crashes.length === 1 && glean.status()['Faulty']!.restarts === 1,
      'the replacement worker to start',
    );
    await glean.close();
    await threadsBackTo(baseline);
    expect(crashes).toHaveLength(1);
  });

  it("restarts a crashed worker on its version's own code after the file was edited; reloadConfig() then serves the edit", async () => {
    const s = await setup();
    // Edited on disk but not reloaded (watch is off): the running version is still the faulty one.
    await s.temp.write('faulty.mjs', FIXED);
    const crashed = nextEvent<CrashEvent>(s.glean, 'crash');
    expect((await rejectionOf(s.faulty.exit(1))).code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(await crashed).toMatchObject({ restarting: true, failed: false });
    await until(() => s.glean.status()['Faulty']!.threads.every((thread) => thread.ready), 'the replacement to load');
    // The replacement loaded the version's bytes from the host, not the edit: it still exits.
    expect((await rejectionOf(s.faulty.exit(1))).code).toBe(ErrorCode.PLUGIN_CRASHED);
    const reloaded = nextEvent<ReloadEvent>(s.glean, 'reload', (event) => event.id === 'Faulty');
    await s.glean.reloadConfig();
    const event = await reloaded;
    expect(event.from.contentHash).not.toBe(event.to.contentHash);
    expect(event.changed).toEqual([s.temp.path('faulty.mjs')]);
    expect(await s.faulty.exit(2)).toBe('fixed:2');
    await expectThreadsBackAfterClose(s);
  });
});
