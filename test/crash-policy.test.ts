import { describe, expect, test } from 'vitest';
import {
  CRASH_LIMIT,
  CRASH_WINDOW_MS,
  CrashPolicy,
  MAX_RESTART_DELAY_MS,
  restartDelay,
} from '../packages/core/src/crash-policy.js';

describe('crash policy', () => {
  test('restarts the first crash at once, then backs off 100, 200, 400 … ms up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map(restartDelay)).toEqual([0, 100, 200, 400, 800, 1600]);
    expect(restartDelay(20)).toBe(MAX_RESTART_DELAY_MS);
  });

  test('fails the version on the crash after CRASH_LIMIT within the window, not before', () => {
    const policy = new CrashPolicy();
    const decisions = Array.from({ length: CRASH_LIMIT + 1 }, (_, i) => policy.crashed(1_000 + i));
    expect(decisions.slice(0, CRASH_LIMIT)).toEqual(
      [0, 100, 200, 400, 800].map((delayMs) => ({ failed: false, delayMs })),
    );
    expect(decisions[CRASH_LIMIT]).toEqual({ failed: true });
  });

  test('forgets crashes older than the window, so spaced crashes never fail a version', () => {
    const policy = new CrashPolicy();
    for (let i = 0; i < CRASH_LIMIT * 3; i++) {
      expect(policy.crashed(i * (CRASH_WINDOW_MS + 1))).toEqual({ failed: false, delayMs: 0 });
      expect(policy.recent).toBe(1);
    }
  });

  test('a crash exactly one window after the oldest still counts that oldest one', () => {
    const policy = new CrashPolicy(1, 1_000);
    expect(policy.crashed(0)).toEqual({ failed: false, delayMs: 0 });
    expect(policy.crashed(1_000)).toEqual({ failed: true });
    const spaced = new CrashPolicy(1, 1_000);
    spaced.crashed(0);
    expect(spaced.crashed(1_001)).toEqual({ failed: false, delayMs: 0 });
  });

  test('the backoff follows the crashes still in the window', () => {
    const policy = new CrashPolicy(10, 1_000);
    policy.crashed(0);
    policy.crashed(10);
    expect(policy.crashed(20)).toEqual({ failed: false, delayMs: 200 });
    // The first three have left the window: this is the first crash in it again.
    expect(policy.crashed(2_000)).toEqual({ failed: false, delayMs: 0 });
  });
});
