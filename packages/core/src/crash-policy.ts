/**
 * When a version's crashed worker is restarted, and when the version gives up: a pure policy,
 * fed the time of each crash, with no threads or timers of its own.
 */

/** Crashes within {@link CRASH_WINDOW_MS} after which a version stops restarting and turns `failed`. */
export const CRASH_LIMIT = 5;
/** The window in which crashes count towards {@link CRASH_LIMIT}. */
export const CRASH_WINDOW_MS = 60_000;
/** The first restart after a crash is immediate; the second waits this long, and each later one twice the one before. */
export const FIRST_RESTART_DELAY_MS = 100;
/** The longest wait before a restart. */
export const MAX_RESTART_DELAY_MS = 5_000;

/** What to do after a crash: restart after `delayMs`, or give up. */
export type CrashDecision = { readonly failed: false; readonly delayMs: number } | { readonly failed: true };

/**
 * The crash window and backoff of one version: more than {@link CRASH_LIMIT} crashes within
 * {@link CRASH_WINDOW_MS} fail it; otherwise the n-th crash in the window waits
 * 0, 100, 200, 400 … ms (at most {@link MAX_RESTART_DELAY_MS}) before its replacement starts.
 */
export class CrashPolicy {
  readonly #crashes: number[] = [];
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(limit = CRASH_LIMIT, windowMs = CRASH_WINDOW_MS) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Crashes counted in the window ending at the last one recorded. */
  get recent(): number {
    return this.#crashes.length;
  }

  /** Records a crash at `now` (ms) and decides. */
  crashed(now: number): CrashDecision {
    this.#crashes.push(now);
    while (this.#crashes.length > 0 && (this.#crashes[0] as number) < now - this.#windowMs) this.#crashes.shift();
    const count = this.#crashes.length;
    if (count > this.#limit) return { failed: true };
    return { failed: false, delayMs: restartDelay(count) };
  }
}

/** The wait before the restart after the `count`-th crash in the window (1-based). */
export function restartDelay(count: number): number {
  return count <= 1 ? 0 : Math.min(FIRST_RESTART_DELAY_MS * 2 ** (count - 2), MAX_RESTART_DELAY_MS);
}
