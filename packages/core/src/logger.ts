/** Where glean writes what nobody listens for. `console` fits; so does a pino or winston logger. */
export interface Logger {
  /** What glean recovered from: a worker that crashed (and whether it is restarted), spare threads that did not start, a stuck thread. */
  warn(message: string, ...details: unknown[]): void;
  /** What nobody handled: an `error` event without a listener, a listener or HTTP `onError` callback that threw. */
  error(message: string, ...details: unknown[]): void;
}

const silent: Logger = { warn() {}, error() {} };

/**
 * The logger glean writes to for the `logger` option (`console` by default, `false` for none),
 * guarded: a logger that throws is the application's fault, and must not turn a report into a crash
 * of the host (it would reach it from inside glean's bookkeeping, as an unhandled rejection).
 */
export function guardLogger(logger: Logger | false | undefined): Logger {
  if (logger === false) return silent;
  const target = logger ?? console;
  return {
    warn: (message, ...details) => {
      try {
        target.warn(message, ...details);
      } catch {
        // Nowhere left to report to.
      }
    },
    error: (message, ...details) => {
      try {
        target.error(message, ...details);
      } catch {
        // Nowhere left to report to.
      }
    },
  };
}
