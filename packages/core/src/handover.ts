/**
 * Pure: which running versions a change hands over drain-first, ended before its new versions start
 * (the `handover` option). No threads: generation.ts asks, the versions do it.
 */

/** What the rule needs to know of a version. */
export interface HandoverCandidate {
  /** Ids and pinned handles holding it. */
  readonly refs: number;
  /** Whether it serves now (a failed version has no threads left to end). */
  readonly ready: boolean;
}

/** One id of the change leaving the version that serves it. */
export interface IdMove<V extends HandoverCandidate> {
  readonly from: V;
  /** `undefined`: the id was removed. */
  readonly to: V | undefined;
  /** `to` is new in this change, not a version already running. */
  readonly fresh: boolean;
  /** The id's new config entry says `handover: "drain-first"`. */
  readonly drainFirst: boolean;
}

/**
 * The versions to end first: each one some id leaves for a fresh version under `drain-first`, and
 * one the change releases whole (every reference it has is an id leaving it), so nothing else still
 * needs it. A version a pinned handle or an unchanged id holds keeps serving them: that id's new
 * version starts beside it, as under `overlap`.
 */
export function drainFirstVersions<V extends HandoverCandidate>(moves: readonly IdMove<V>[]): V[] {
  const leaving = new Map<V, { count: number; drainFirst: boolean }>();
  for (const move of moves) {
    if (move.to === move.from) continue;
    const entry = leaving.get(move.from) ?? { count: 0, drainFirst: false };
    entry.count++;
    if (move.drainFirst && move.fresh && move.to !== undefined) entry.drainFirst = true;
    leaving.set(move.from, entry);
  }
  return [...leaving]
    .filter(([version, { count, drainFirst }]) => drainFirst && version.ready && count === version.refs)
    .map(([version]) => version);
}
