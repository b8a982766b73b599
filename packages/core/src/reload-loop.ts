import type { GleanError } from './errors.js';

/** How long after finding the config (or a plugin file) empty glean reads it again before reporting it. */
export const EMPTY_RETRY_MS = 50;

/** What the loop runs and whom it tells. */
export interface ReloadLoopParts {
  /**
   * Applies one change. `holdEmpty`: the config or a plugin file found empty stops it before anything
   * loads, and the error it would have been is resolved, not thrown. `newer` aborts when a change
   * is asked for while it runs: a run waiting for its config's `activateAt` gives way to it.
   */
  apply(holdEmpty: boolean, newer: AbortSignal): Promise<GleanError | undefined>;
  /** close() began: no run starts, and what ends a run is not reported. */
  closing(): boolean;
  /** The error a reloadConfig() caller whose run never started rejects with once closed. */
  closedError(): GleanError;
  /** A run failed (a watcher's, or a reloadConfig() caller's, which also rejects): the `error` event, or the logger. */
  report(error: GleanError): void;
}

/**
 * Runs reloads one at a time: a change during a run coalesces into one more run with the latest
 * files. A watcher's run that finds a file empty is held back and looked at again
 * {@link EMPTY_RETRY_MS} later, as `reloadConfig()` would: that look reports what it finds.
 */
export class ReloadLoop {
  readonly #parts: ReloadLoopParts;
  #running: Promise<void> | undefined;
  #dirty = false;
  /** A reloadConfig() caller waits for the next run. */
  #asked = false;
  #lastOutcome: GleanError | undefined;
  #emptyRetry: NodeJS.Timeout | undefined;
  /** Aborted by a change asked for while the run under way applies an earlier one. */
  #newer: AbortController | undefined;

  constructor(parts: ReloadLoopParts) {
    this.#parts = parts;
  }

  /** The run under way, if any; it never rejects for close() to wait on. */
  get running(): Promise<void> | undefined {
    return this.#running?.catch(() => {});
  }

  /**
   * Asks for a run; resolves or rejects with the outcome of the run that applies it. `asked`: a
   * reloadConfig() caller waits for this run, so its outcome is reported to it (not as an error event).
   */
  schedule(asked = false): Promise<void> {
    this.#dirty = true;
    if (asked) this.#asked = true;
    this.#newer?.abort();
    this.#running ??= this.#run();
    return this.#running;
  }

  /** No look again is due any more (close). */
  stop(): void {
    this.#endEmptyWait();
  }

  async #run(): Promise<void> {
    const parts = this.#parts;
    try {
      while (this.#dirty && !parts.closing()) {
        this.#dirty = false;
        const asked = this.#asked;
        this.#asked = false;
        this.#lastOutcome = undefined;
        this.#newer = new AbortController();
        try {
          const heldBack = await parts.apply(!asked, this.#newer.signal);
          if (heldBack === undefined) this.#endEmptyWait();
          else {
            this.#lastOutcome = heldBack;
            if (!parts.closing()) this.#seenEmpty();
          }
        } catch (error) {
          this.#lastOutcome = error as GleanError;
          // close() ended the reload: a caller of reloadConfig() learns it from the rejection; no error to report.
          if (parts.closing()) continue;
          this.#endEmptyWait();
          parts.report(error as GleanError);
        }
      }
      // close() came before a reloadConfig() caller's run could start: that reload is not applied.
      if (this.#asked && parts.closing()) {
        this.#asked = false;
        this.#lastOutcome = parts.closedError();
      }
    } finally {
      this.#running = undefined;
      this.#newer = undefined;
    }
    if (this.#lastOutcome !== undefined) throw this.#lastOutcome;
  }

  /**
   * A file written in place is empty for a moment (truncated, not yet written). When a watcher's read
   * finds the config or a plugin file empty, look again EMPTY_RETRY_MS later, as reloadConfig() does:
   * that read reports what it finds. Reads for more events of the same write wait for the same look.
   */
  #seenEmpty(): void {
    this.#emptyRetry ??= setTimeout(() => {
      this.#emptyRetry = undefined;
      void this.schedule(true).catch(() => {});
    }, EMPTY_RETRY_MS);
  }

  /** A read found nothing empty, or its outcome was reported: no look again is due. */
  #endEmptyWait(): void {
    clearTimeout(this.#emptyRetry);
    this.#emptyRetry = undefined;
  }
}
