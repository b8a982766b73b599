/**
 * Pure: the `outcome` label of `glean_calls_total`, kept to a bounded set of values whatever a
 * plugin throws. No threads, no prom-client.
 */
import { ErrorCode, GleanError } from '../errors.js';

/** The outcomes that are not a glean code: a call that resolved, and a plugin's own error. */
export const CallOutcome = {
  /** The call resolved. */
  OK: 'ok',
  /** The call rejected with the plugin's own error (whatever its `code`), or anything glean did not make. */
  ERROR: 'error',
} as const;

const GLEAN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/**
 * The outcome of a call that rejected with `error`: its `code` when glean made it (a `GleanError`
 * whose code is in the {@link ErrorCode} table), else `error`. A plugin chooses its errors' codes
 * freely, so they never become label values: the label has at most the table's size plus two values.
 */
export function rejectedOutcome(error: unknown): string {
  return error instanceof GleanError && GLEAN_CODES.has(error.code) ? error.code : CallOutcome.ERROR;
}
