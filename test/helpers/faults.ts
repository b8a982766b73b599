/**
 * Helpers of the fault tests (crash, faults, timeout): a Glean serving a faulty plugin beside a
 * healthy one, recorded events, rejections, and the thread count after close().
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, expect } from 'vitest';
import { GleanError, type CrashEvent, type Glean, type GleanEvents, type GleanOptions, type Handle } from '@glean/core';
import { threadCount, threadsBackTo, type TempDir } from './index.js';
import { startGlean } from './glean.js';

/** Fails every test of the calling file after which the host saw an unhandled rejection: whatever a plugin does, it must not. */
export function failOnHostUnhandledRejections(): void {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  afterEach(() => {
    expect(seen.splice(0)).toEqual([]);
  });
  // After the last test's cleanups too: they run after afterEach hooks, so a rejection while a Glean closes comes later.
  afterAll(() => {
    expect(seen).toEqual([]);
    process.off('unhandledRejection', onUnhandled);
  });
}

/** The plugin beside the faulty one: it must answer whatever the other does. */
const HEALTHY = `export function echo(value) { return value; }`;

/** test/fixtures/hostile/glean-ports.mjs, written beside every faulty plugin for it to import (`gleanPorts`, `onNextMessage`). */
const GLEAN_PORTS = readFileSync(new URL('../fixtures/hostile/glean-ports.mjs', import.meta.url), 'utf8');

/** A Glean serving a faulty plugin as `Faulty` and a healthy one as `Healthy`, each in workers of its own. */
export interface FaultySetup<Api> {
  readonly temp: TempDir;
  readonly glean: Glean;
  readonly faulty: Handle<Api>;
  readonly healthy: Handle<(value: string) => string>;
  /** Every `crash` event so far. */
  readonly crashes: CrashEvent[];
  /** OS threads of this process before the Glean started any worker. */
  readonly baseline: number;
  /** OS threads once both plugins serve. */
  readonly serving: number;
}

/**
 * Writes `source` as faulty.mjs (its export `Faulty`, config entry with `options`) and a healthy
 * plugin, and starts a Glean over both (no watching, no logger, plus `gleanOptions`). Closed after the test.
 */
export async function faultySetup<Api>(
  source: string,
  options: Record<string, unknown> = {},
  gleanOptions: GleanOptions = {},
): Promise<FaultySetup<Api>> {
  const { temp, glean, baseline } = await startGlean({
    files: { 'faulty.mjs': source, 'healthy.mjs': HEALTHY, 'glean-ports.mjs': GLEAN_PORTS },
    config: [
      { id: 'Faulty', file: 'faulty.mjs', name: 'Faulty', ...options },
      { id: 'Healthy', file: 'healthy.mjs', name: 'echo' },
    ],
    configName: 'glean.json',
    load: false,
    ...gleanOptions,
  });
  const crashes = recordEvents(glean, 'crash');
  await glean.loadConfig();
  const faulty = await glean.reloadAndWatch<Api>('Faulty');
  const healthy = await glean.reloadAndWatch<(value: string) => string>('Healthy');
  return { temp, glean, faulty, healthy, crashes, baseline, serving: threadCount() };
}

/** Every `event` the Glean emits from now on, in order. */
export function recordEvents<K extends keyof GleanEvents>(glean: Glean, event: K): GleanEvents[K][0][] {
  const seen: GleanEvents[K][0][] = [];
  glean.on(event, ((payload: GleanEvents[K][0]) => void seen.push(payload)) as never);
  return seen;
}

/** close() terminates every worker: the process is back to the threads it had before the Glean. */
export async function expectThreadsBackAfterClose({
  glean,
  baseline,
}: {
  glean: Glean;
  baseline: number;
}): Promise<void> {
  await glean.close();
  await threadsBackTo(baseline);
}

/** How a call ended: its value, its rejection, or still pending when the wait was up. */
export type Outcome = { value: unknown } | { error: unknown } | 'pending';

/**
 * How `promise` settled within `ms`, or 'pending'. What these tests prove is often that a call does
 * not pend (or does not wait for a thread stuck in a system call), which no event can show: so the
 * wait is a race against a timer, with room for a slow machine.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        (value: unknown) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      new Promise<'pending'>((resolve) => (timer = setTimeout(resolve, ms, 'pending'))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome is a rejection with a GleanError of `code`; returns the error. */
export function rejectedWith(outcome: Outcome, code: string): GleanError {
  expect(outcome, 'the call still pending').not.toBe('pending');
  expect(outcome).toMatchObject({ error: expect.any(GleanError) });
  const error = (outcome as { error: GleanError }).error;
  expect(error.code).toBe(code);
  return error;
}
