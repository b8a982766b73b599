/**
 * A canary's weight over time: a fixed weight, or steps climbed one per `stepMs` of passing
 * analyses; a hold that stops the climb; a stall said when analyses only wait; and the streak of
 * worker crashes that rolls a canary back at once. Pure: time comes in as `now` (ms), and the
 * engine acts on what the methods return.
 */
import { CANARY_CRASH_LIMIT } from './analysis.js';

/** How a canary's weight is set and moves; config/ supplies these (weights as percentages, 0–100). */
export interface ProgressSettings {
  /** A fixed weight; used when `steps` is undefined or empty (0 when both are missing). */
  readonly weight: number | undefined;
  /** Ascending weights, climbed from the first one at a time while analyses pass. */
  readonly steps: readonly number[] | undefined;
  /** The least time at one step before a passing analysis moves the canary up; undefined is 0 (every pass moves it). */
  readonly stepMs: number | undefined;
  /** How long analyses may only wait (too few calls) before a stall is said; default 600 000 (10 minutes). */
  readonly progressDeadlineMs: number;
}

/** What one analysis changed: the canary moved up a step, or it stalled. */
export type ProgressChange =
  /** Moved up a step, to `weight`. */
  | { readonly kind: 'step'; readonly weight: number }
  /** No verdict other than wait since `sinceMs` (the last pass, or the start), for progressDeadlineMs or more; said once until progress resumes. */
  | { readonly kind: 'stalled'; readonly sinceMs: number };

/**
 * One canary's progress. A stepped canary starts at its first step (so does one started again
 * after a host restart: the safe direction); each passing analysis at least `stepMs` after the
 * last step (or the start, or the end of a hold) moves it up one step, never while held, never
 * past the last. Analyses that wait do not move it; when they have been the only verdicts for
 * `progressDeadlineMs`, one `stalled` change says so, and the next comes only after a pass and
 * another such stretch. A hold changes nothing of the stall.
 */
export class RolloutProgress {
  readonly #steps: readonly number[] | undefined;
  readonly #fixed: number;
  readonly #stepMs: number;
  readonly #deadlineMs: number;
  #step: number;
  #held = false;
  /** When the current step began, or the hold ended, whichever came last. */
  #stepSince: number;
  /** The last analysis that did not wait (or the start). */
  #progressSince: number;
  #stallSaid = false;
  #crashes = 0;

  /**
   * A canary's progress from `now` (ms), at its fixed weight or its first step; `crashes`: the streak
   * it goes on from (a config edit of the rollout keeps the one before's), default 0.
   */
  constructor(settings: ProgressSettings, now: number, crashes = 0) {
    const steps = settings.steps;
    this.#steps = steps !== undefined && steps.length > 0 ? [...steps] : undefined;
    this.#fixed = settings.weight ?? 0;
    this.#stepMs = settings.stepMs ?? 0;
    this.#deadlineMs = settings.progressDeadlineMs;
    this.#step = 0;
    this.#stepSince = now;
    this.#progressSince = now;
    this.#crashes = crashes;
  }

  /** Crashes of the canary's workers in a row, with no call answered since. */
  get crashes(): number {
    return this.#crashes;
  }

  /** The weight now: the fixed weight, or the current step's (the first step at start). */
  get weight(): number {
    return this.#steps === undefined ? this.#fixed : (this.#steps[this.#step] as number);
  }

  /** The index of the current step in `steps`, or undefined for a fixed weight. */
  get step(): number | undefined {
    return this.#steps === undefined ? undefined : this.#step;
  }

  /** Whether the canary is held at its step. */
  get held(): boolean {
    return this.#held;
  }

  /** Holds the canary at its step (`true`), or lets it climb again (`false`): then the next step needs `stepMs` more from `now`. */
  hold(held: boolean, now: number): void {
    if (this.#held && !held) this.#stepSince = now;
    this.#held = held;
  }

  /**
   * One analysis's verdict at `now`: a pass moves up a step once stepMs passed since the last step
   * (never while held, never past the last); the changes it caused, in order (none, a step, or a
   * stall).
   */
  analysed(verdict: 'wait' | 'pass', now: number): ProgressChange[] {
    if (verdict === 'wait') {
      if (this.#stallSaid || now - this.#progressSince < this.#deadlineMs) return [];
      this.#stallSaid = true;
      return [{ kind: 'stalled', sinceMs: this.#progressSince }];
    }
    this.#progressSince = now;
    this.#stallSaid = false;
    const steps = this.#steps;
    if (steps === undefined || this.#held || this.#step >= steps.length - 1) return [];
    if (now - this.#stepSince < this.#stepMs) return [];
    this.#step++;
    this.#stepSince = now;
    return [{ kind: 'step', weight: steps[this.#step] as number }];
  }

  /** A canary worker crashed; true when CANARY_CRASH_LIMIT crashes came in a row (and for every crash after them until a call is answered). */
  crashed(): boolean {
    this.#crashes++;
    return this.#crashes >= CANARY_CRASH_LIMIT;
  }

  /** A canary call was answered (a success): the crash streak starts again. */
  answered(): void {
    this.#crashes = 0;
  }
}
