/**
 * A config's `activateAt`: waiting for it by the wall clock, and what the switch then says. A
 * generation whose versions are ready before the time waits here; one ready after it switches at once,
 * late. No threads: unit-tested on its own.
 */
import type { ActivateAt } from './config.js';
import type { ActivateEvent } from './events.js';

// setTimeout fires at once (with a warning) for a delay above 2^31-1 ms (24.8 days): a longer wait is taken in steps.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Resolves `true` once the wall clock (`Date.now()`) reads `epochMs` or later, or `false` as soon as
 * `signal` aborts first. A time already come resolves `true` at once, whether `signal` aborted or not.
 * Never early: a timer that fires before the clock reads the time (the timer's clock is not the wall
 * clock) waits again for the rest.
 */
export function waitUntil(epochMs: number, signal: AbortSignal): Promise<boolean> {
  if (Date.now() >= epochMs) return Promise.resolve(true);
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const aborted = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const arm = (): void => {
      const left = epochMs - Date.now();
      if (left <= 0) {
        signal.removeEventListener('abort', aborted);
        resolve(true);
        return;
      }
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    signal.addEventListener('abort', aborted, { once: true });
    arm();
  });
}

/**
 * The `activate` event of a switch made for `activateAt` at `switchedAt` (epoch ms). `readyBefore`:
 * every new version was ready before the time, so the switch waited for it and is on time (`lateMs`
 * 0, however many milliseconds the timer took); otherwise `lateMs` is how long after the time it came.
 */
export function activateEvent(activateAt: ActivateAt, switchedAt: number, readyBefore: boolean): ActivateEvent {
  return {
    activateAt: activateAt.text,
    switchedAt,
    lateMs: readyBefore ? 0 : Math.max(0, switchedAt - activateAt.epochMs),
  };
}

/** A change's wait for its config's `activateAt`, and the `activate` event of its switch. */
export class Activation {
  readonly #at: ActivateAt | undefined;
  readonly #superseded: AbortSignal | undefined;
  #readyBefore = false;

  /** `at`: the config's activateAt, if any; `superseded`: see `GenerationParts.superseded` (absent: no wait). */
  constructor(at: ActivateAt | undefined, superseded: AbortSignal | undefined) {
    this.#at = at;
    this.#superseded = superseded;
  }

  /**
   * Resolves `true` at the activateAt (at once when it has come, or there is none), `false` when a
   * newer change or close() came first. `ready`: the new versions are ready now, so a switch made at
   * the time is on time.
   */
  async due(ready: boolean): Promise<boolean> {
    if (this.#at === undefined || this.#superseded === undefined) return true;
    this.#readyBefore = ready && Date.now() < this.#at.epochMs;
    return waitUntil(this.#at.epochMs, this.#superseded);
  }

  /** The `activate` event of a switch made at `switchedAt`, when the config had an activateAt. */
  switched(switchedAt: number): ActivateEvent | undefined {
    return this.#at === undefined || this.#superseded === undefined
      ? undefined
      : activateEvent(this.#at, switchedAt, this.#readyBefore);
  }
}
