/**
 * One version's call outcomes in the current analysis window: calls, errors and a latency
 * histogram of fixed size, whatever the call rate. A pure record: no threads, no timers; the
 * engine records each settled call and resets the window when it starts the next.
 */

/** One version's figures for one window, as events and status() show them. */
export interface WindowFigures {
  readonly calls: number;
  readonly errors: number;
  /** errors / calls as a percentage (0–100); 0 with no calls. */
  readonly errorRate: number;
  /** The 99th percentile of call latency, ms; undefined with no calls. */
  readonly p99Ms: number | undefined;
}

/** The shortest latency the histogram tells apart, ms (1 µs); shorter ones count as this. */
export const LATENCY_MIN_MS = 0.001;
/** The longest latency the histogram tells apart, ms (about an hour); longer ones count as this. */
export const LATENCY_MAX_MS = 3_600_000;
/** Each latency bucket's upper bound is this factor times its lower bound. */
export const LATENCY_BUCKET_GROWTH = 1.02;

const LOG_GROWTH = Math.log(LATENCY_BUCKET_GROWTH);
/** 1 113 buckets: from 1 µs, growing by 2 % each, until past an hour. */
const BUCKETS = Math.ceil(Math.log(LATENCY_MAX_MS / LATENCY_MIN_MS) / LOG_GROWTH) + 1;
/** A bucket is read as its geometric middle, at most √1.02 − 1 ≈ 1 % from any value in it. */
const MIDDLE = Math.sqrt(LATENCY_BUCKET_GROWTH);

/**
 * The calls, errors and latencies of one version since the window began. Latency is counted in
 * logarithmic buckets (each 2 % wider than the one before, from 1 µs to an hour, values outside
 * clamped), so {@link OutcomeWindow.figures}' p99 is within about 1 % of the exact p99 of the
 * recorded calls (nearest rank), and exact when they all took the same time; `record` is O(1)
 * and allocates nothing.
 */
export class OutcomeWindow {
  readonly #counts = new Float64Array(BUCKETS);
  #calls = 0;
  #errors = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  /** Records one settled call: whether it counts as an error, and how long it took in ms. */
  record(error: boolean, ms: number): void {
    // NaN and negative durations (a clock stepped back) count as the shortest.
    const value = ms > LATENCY_MIN_MS ? Math.min(ms, LATENCY_MAX_MS) : LATENCY_MIN_MS;
    const index = Math.min(BUCKETS - 1, Math.floor(Math.log(value / LATENCY_MIN_MS) / LOG_GROWTH));
    (this.#counts[index] as number)++;
    this.#calls++;
    if (error) this.#errors++;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** The window's figures: calls, errors, error rate (percent) and p99 (ms, undefined with no calls). */
  figures(): WindowFigures {
    const calls = this.#calls;
    return {
      calls,
      errors: this.#errors,
      errorRate: calls === 0 ? 0 : (this.#errors / calls) * 100,
      p99Ms: calls === 0 ? undefined : this.#quantile(0.99),
    };
  }

  /** Starts a new, empty window. */
  reset(): void {
    this.#counts.fill(0);
    this.#calls = 0;
    this.#errors = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = Number.NEGATIVE_INFINITY;
  }

  /**
   * The latency at quantile `q` by nearest rank (the `ceil(q × calls)`-th shortest call): the middle
   * of the bucket holding it, kept within the shortest and longest recorded, which makes one call,
   * or calls that all took the same time, exact.
   */
  #quantile(q: number): number {
    const rank = Math.max(1, Math.ceil(q * this.#calls));
    let seen = 0;
    let index = 0;
    for (; index < BUCKETS - 1; index++) {
      seen += this.#counts[index] as number;
      if (seen >= rank) break;
    }
    const middle = LATENCY_MIN_MS * LATENCY_BUCKET_GROWTH ** index * MIDDLE;
    return Math.min(this.#max, Math.max(this.#min, middle));
  }
}
