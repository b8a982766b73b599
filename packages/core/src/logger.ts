/**
 * Where glean writes what nobody listens for: `console` fits, and so does any logger with `warn`
 * and `error` taking `(message, ...details)`. A logger with `child()` (pino, bunyan) gets structured
 * lines instead, pino's way: `child({ component: 'glean' }).warn({ id, version, file, code, err }, message)`.
 * The messages, their levels and fields are listed in the README ("Logs").
 */
export interface Logger {
  /** What glean recovered from: a worker that crashed (and whether it is restarted), spare threads that did not start, a stuck thread. */
  warn(message: string, ...details: unknown[]): void;
  /** What nobody handled: an `error` event without a listener, a listener or HTTP `onError` callback that threw. */
  error(message: string, ...details: unknown[]): void;
  /**
   * pino's `child(bindings)`: when present, glean calls `child({ component: 'glean' })` once and logs
   * through what it returns, each line as `(fields, message)`. A logger whose `child()` takes other
   * arguments (winston's) should be passed without it: `{ warn: (m, ...d) => w.warn(m, ...d), error: … }`.
   */
  child?(bindings: Record<string, unknown>): unknown;
}

/** A logger's level methods as glean calls them in pino's form: `(fields, message)`. */
export interface StructuredTarget {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * Where glean's lines go, found once for the `logger` option: `console` by default, nothing for
 * `false`, a child logger in pino's form when the logger has `child()`. A `child()` that throws or
 * returns something without `warn` and `error` leaves the logger itself, still in pino's form, with
 * `component: 'glean'` on every line (`bindings`).
 */
export type LogTarget =
  | { readonly form: 'none' }
  | { readonly form: 'console'; readonly logger: Logger }
  | { readonly form: 'structured'; readonly logger: StructuredTarget; readonly bindings: Record<string, unknown> };

/** What glean binds to the child logger it asks for. */
export const LOG_BINDINGS = { component: 'glean' } as const;

/** The target of the `logger` option (see {@link LogTarget}); never throws, whatever the logger does. */
export function logTargetOf(logger: Logger | false | undefined): LogTarget {
  if (logger === false) return { form: 'none' };
  const given: Logger = logger ?? console;
  let child: unknown;
  try {
    if (typeof given.child !== 'function') return { form: 'console', logger: given };
    child = given.child({ ...LOG_BINDINGS });
  } catch {
    // A child() that throws (or a getter that does): the logger itself, in the form it asked for.
    return { form: 'structured', logger: given as unknown as StructuredTarget, bindings: { ...LOG_BINDINGS } };
  }
  return hasLevels(child)
    ? { form: 'structured', logger: child, bindings: {} }
    : { form: 'structured', logger: given as unknown as StructuredTarget, bindings: { ...LOG_BINDINGS } };
}

function hasLevels(value: unknown): value is StructuredTarget {
  try {
    const levels = value as Partial<StructuredTarget> | null;
    return (
      typeof value === 'object' &&
      value !== null &&
      typeof levels?.warn === 'function' &&
      typeof levels.error === 'function'
    );
  } catch {
    return false;
  }
}
