/** The pure rule of which versions a change hands over drain-first (handover.ts), without threads. */
import { describe, expect, it } from 'vitest';
import { drainFirstVersions, type HandoverCandidate } from '../packages/core/src/handover.js';

const version = (refs: number, ready = true): HandoverCandidate => ({ refs, ready });

describe('drainFirstVersions', () => {
  it('hands over a version every reference of which leaves it for a fresh version under drain-first', () => {
    const old = version(1);
    expect(drainFirstVersions([{ from: old, to: version(0), fresh: true, drainFirst: true }])).toEqual([old]);
  });

  it('keeps overlap for the default, a reused successor, a version still held (pinned handle, unchanged id), or one that failed', () => {
    const to = version(0);
    expect(drainFirstVersions([{ from: version(1), to, fresh: true, drainFirst: false }])).toEqual([]);
    expect(drainFirstVersions([{ from: version(1), to, fresh: false, drainFirst: true }])).toEqual([]);
    expect(drainFirstVersions([{ from: version(2), to, fresh: true, drainFirst: true }])).toEqual([]);
    expect(drainFirstVersions([{ from: version(1, false), to, fresh: true, drainFirst: true }])).toEqual([]);
  });

  it('counts every id leaving a shared version, removed ones too', () => {
    const shared = version(3);
    const to = version(0);
    expect(
      drainFirstVersions([
        { from: shared, to, fresh: true, drainFirst: true },
        { from: shared, to, fresh: true, drainFirst: false },
        { from: shared, to: undefined, fresh: false, drainFirst: false },
      ]),
    ).toEqual([shared]);
    expect(drainFirstVersions([{ from: shared, to: shared, fresh: false, drainFirst: true }])).toEqual([]);
  });
});
