/**
 * The pure part of `activateAt` (activation.ts), without threads: the wall-clock wait that a newer
 * change or close() cuts short, and what the `activate` event says about a switch.
 */
import { describe, expect, it } from 'vitest';
import { activateEvent, waitUntil } from '../packages/core/src/activation.js';

const at = (epochMs: number) => ({ text: new Date(epochMs).toISOString(), epochMs });

describe('waitUntil', () => {
  it('resolves true once the wall clock reads the time, never before', async () => {
    const time = Date.now() + 40;
    expect(await waitUntil(time, new AbortController().signal)).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(time);
  });

  it('resolves true at once for a time already come, even when the signal aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await waitUntil(Date.now() - 1, stop.signal)).toBe(true);
  });

  it('resolves false as soon as the signal aborts, or at once when it already had', async () => {
    const stop = new AbortController();
    const waiting = waitUntil(Date.now() + 60_000, stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
    expect(await waitUntil(Date.now() + 60_000, stop.signal)).toBe(false);
  });

  it('waits for a time beyond the longest timer (24.8 days) instead of firing at once', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const stop = new AbortController();
      let settled = false;
      const waiting = waitUntil(Date.now() + 30 * 24 * 3600_000, stop.signal).then((due) => {
        settled = true;
        return due;
      });
      await waitUntil(Date.now() + 30, new AbortController().signal);
      expect(settled).toBe(false);
      stop.abort();
      expect(await waiting).toBe(false);
      expect(warnings.map((warning) => warning.name)).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('activateEvent', () => {
  it('is on time (lateMs 0) when the versions were ready before the time, however late the timer fired', () => {
    const time = at(Date.UTC(2026, 11, 1, 21));
    expect(activateEvent(time, time.epochMs + 3, true)).toEqual({
      activateAt: '2026-12-01T21:00:00.000Z',
      switchedAt: time.epochMs + 3,
      lateMs: 0,
    });
  });

  it('is late by the time between activateAt and the switch when the versions were ready after it', () => {
    const time = at(Date.UTC(2026, 11, 1, 21));
    expect(activateEvent(time, time.epochMs + 1250, false).lateMs).toBe(1250);
  });
});
