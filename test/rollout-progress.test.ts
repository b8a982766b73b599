/**
 * A canary's progress (packages/core/src/rollout/progress.ts), a pure policy driven with explicit
 * times: steps climbed per stepMs of passing analyses, holds, stalls said once, and the crash
 * streak that rolls a canary back.
 */
import { describe, expect, test } from 'vitest';
import { CANARY_CRASH_LIMIT } from '../packages/core/src/rollout/analysis.js';
import { type ProgressSettings, RolloutProgress } from '../packages/core/src/rollout/progress.js';

const STEP_MS = 60_000;
const DEADLINE_MS = 600_000;
const STEPPED: ProgressSettings = {
  weight: undefined,
  steps: [1, 5, 25, 50],
  stepMs: STEP_MS,
  progressDeadlineMs: DEADLINE_MS,
};
const FIXED: ProgressSettings = { weight: 5, steps: undefined, stepMs: undefined, progressDeadlineMs: DEADLINE_MS };
/** Analyses every 10 s, as the default intervalMs runs them. */
const INTERVAL_MS = 10_000;
const START = 1_700_000_000_000;

describe('steps', () => {
  test('a stepped canary walks 1 → 5 → 25 → 50, one step per stepMs of passing analyses, and stops at the last', () => {
    const progress = new RolloutProgress(STEPPED, START);
    expect([progress.weight, progress.step]).toEqual([1, 0]);
    const steps: [number, number][] = [];
    for (let now = START + INTERVAL_MS; now <= START + 10 * STEP_MS; now += INTERVAL_MS) {
      for (const change of progress.analysed('pass', now)) {
        expect(change.kind).toBe('step');
        if (change.kind === 'step') steps.push([now - START, change.weight]);
      }
    }
    expect(steps).toEqual([
      [STEP_MS, 5],
      [2 * STEP_MS, 25],
      [3 * STEP_MS, 50],
    ]);
    expect([progress.weight, progress.step]).toEqual([50, 3]);
  });

  test('a pass before stepMs since the last step does not move it; the first pass after does', () => {
    const progress = new RolloutProgress(STEPPED, START);
    expect(progress.analysed('pass', START + STEP_MS - 1)).toEqual([]);
    expect(progress.analysed('pass', START + STEP_MS)).toEqual([{ kind: 'step', weight: 5 }]);
    expect(progress.analysed('pass', START + 2 * STEP_MS - 1)).toEqual([]);
    expect(progress.weight).toBe(5);
  });

  test('waits do not advance it, however long they go on', () => {
    const progress = new RolloutProgress(STEPPED, START);
    for (let now = START + INTERVAL_MS; now <= START + 5 * STEP_MS; now += INTERVAL_MS)
      expect(progress.analysed('wait', now).filter((change) => change.kind === 'step')).toEqual([]);
    expect([progress.weight, progress.step]).toEqual([1, 0]);
    // The next pass moves it one step, not one per stepMs that went by.
    expect(progress.analysed('pass', START + 5 * STEP_MS + INTERVAL_MS)).toEqual([{ kind: 'step', weight: 5 }]);
    expect(progress.analysed('pass', START + 5 * STEP_MS + 2 * INTERVAL_MS)).toEqual([]);
  });

  test('a hold keeps it at its step through passing analyses; released, it needs stepMs more before the next', () => {
    const progress = new RolloutProgress(STEPPED, START);
    progress.hold(true, START + 1);
    expect(progress.held).toBe(true);
    for (let now = START + INTERVAL_MS; now <= START + 5 * STEP_MS; now += INTERVAL_MS)
      expect(progress.analysed('pass', now)).toEqual([]);
    expect(progress.weight).toBe(1);
    const released = START + 5 * STEP_MS;
    progress.hold(false, released);
    expect(progress.held).toBe(false);
    expect(progress.analysed('pass', released + INTERVAL_MS)).toEqual([]);
    expect(progress.analysed('pass', released + STEP_MS)).toEqual([{ kind: 'step', weight: 5 }]);
  });

  test('holding a held canary again changes nothing, nor releasing one that is not held', () => {
    const progress = new RolloutProgress(STEPPED, START);
    progress.hold(false, START + STEP_MS - 1);
    expect(progress.analysed('pass', START + STEP_MS)).toEqual([{ kind: 'step', weight: 5 }]);
    progress.hold(true, START + STEP_MS);
    progress.hold(true, START + 3 * STEP_MS);
    progress.hold(false, START + 3 * STEP_MS);
    expect(progress.analysed('pass', START + 4 * STEP_MS)).toEqual([{ kind: 'step', weight: 25 }]);
  });

  test('a fixed weight stays, with no step, whatever the analyses say', () => {
    const progress = new RolloutProgress(FIXED, START);
    expect([progress.weight, progress.step]).toEqual([5, undefined]);
    for (let i = 1; i <= 100; i++) expect(progress.analysed('pass', START + i * STEP_MS)).toEqual([]);
    expect(progress.weight).toBe(5);
  });

  test('without stepMs every pass moves it up a step; with neither steps nor weight the weight is 0', () => {
    const progress = new RolloutProgress({ ...STEPPED, stepMs: undefined }, START);
    expect(progress.analysed('pass', START)).toEqual([{ kind: 'step', weight: 5 }]);
    expect(progress.analysed('pass', START)).toEqual([{ kind: 'step', weight: 25 }]);
    const none = new RolloutProgress({ ...FIXED, weight: undefined, steps: [] }, START);
    expect([none.weight, none.step]).toEqual([0, undefined]);
  });

  test('a restart begins again at the first step', () => {
    const before = new RolloutProgress(STEPPED, START);
    before.analysed('pass', START + STEP_MS);
    before.analysed('pass', START + 2 * STEP_MS);
    expect(before.weight).toBe(25);
    const after = new RolloutProgress(STEPPED, START + 2 * STEP_MS + 1);
    expect([after.weight, after.step]).toEqual([1, 0]);
  });

  test('the steps it climbs are those given at the start, whatever becomes of the array', () => {
    const steps = [1, 5, 25];
    const progress = new RolloutProgress({ ...STEPPED, steps }, START);
    steps[1] = 99;
    expect(progress.analysed('pass', START + STEP_MS)).toEqual([{ kind: 'step', weight: 5 }]);
  });
});

describe('stalls', () => {
  test('a stall is said once after progressDeadlineMs of waits, and again only after a pass then another stall', () => {
    const progress = new RolloutProgress(STEPPED, START);
    const stalls: [number, number][] = [];
    const analyse = (verdict: 'wait' | 'pass', now: number) => {
      for (const change of progress.analysed(verdict, now))
        if (change.kind === 'stalled') stalls.push([now - START, change.sinceMs - START]);
    };
    for (let now = START + INTERVAL_MS; now <= START + 3 * DEADLINE_MS; now += INTERVAL_MS) analyse('wait', now);
    expect(stalls).toEqual([[DEADLINE_MS, 0]]);
    const pass = START + 3 * DEADLINE_MS + INTERVAL_MS;
    analyse('pass', pass);
    for (let now = pass + INTERVAL_MS; now < pass + DEADLINE_MS; now += INTERVAL_MS) analyse('wait', now);
    expect(stalls).toHaveLength(1);
    for (let now = pass + DEADLINE_MS; now <= pass + 2 * DEADLINE_MS; now += INTERVAL_MS) analyse('wait', now);
    expect(stalls).toEqual([
      [DEADLINE_MS, 0],
      [pass + DEADLINE_MS - START, pass - START],
    ]);
  });

  test('passes now and then keep a canary from stalling, however many waits come between them', () => {
    const progress = new RolloutProgress(FIXED, START);
    for (let now = START + INTERVAL_MS; now <= START + 10 * DEADLINE_MS; now += INTERVAL_MS) {
      const verdict = (now - START) % (DEADLINE_MS - INTERVAL_MS) === 0 ? 'pass' : 'wait';
      expect(progress.analysed(verdict, now)).toEqual([]);
    }
  });

  test('a held canary stalls too: the hold stops its steps, not its analysis', () => {
    const progress = new RolloutProgress(STEPPED, START);
    progress.hold(true, START);
    expect(progress.analysed('wait', START + DEADLINE_MS)).toEqual([{ kind: 'stalled', sinceMs: START }]);
  });
});

describe('crash streak', () => {
  test(`${CANARY_CRASH_LIMIT} crashes in a row are a rollback`, () => {
    const progress = new RolloutProgress(FIXED, START);
    const answers = Array.from({ length: CANARY_CRASH_LIMIT }, () => progress.crashed());
    expect(answers).toEqual([false, false, false, false, true]);
    expect(progress.crashed()).toBe(true);
  });

  test('four crashes, then an answered call, then four more are not', () => {
    const progress = new RolloutProgress(STEPPED, START);
    for (let i = 0; i < 4; i++) expect(progress.crashed()).toBe(false);
    progress.answered();
    for (let i = 0; i < 4; i++) expect(progress.crashed()).toBe(false);
    expect(progress.crashed()).toBe(true);
  });
});
