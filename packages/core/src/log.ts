/**
 * Every line glean logs, built in one place. A call site names the line (a {@link LogLine}) and
 * gives its fields once; this module writes it in the logger's form: pino's `(fields, message)`
 * through `child({ component: 'glean' })` when the logger has `child()`, otherwise the console line
 * glean has always written. A logger that throws changes nothing: the report is dropped, never
 * turned into an exception inside glean's bookkeeping (it would reach the host as an unhandled rejection).
 */
import { type Logger, type LogTarget, logTargetOf } from './logger.js';
import { describePlugin } from './plugin-ref.js';
import { RollbackReason } from './rollout/analysis.js';

/** The fields of a line. Absent (`undefined`) fields are left out of the structured form. */
export interface LogFields {
  /** The plugin id concerned. */
  readonly id?: string | undefined;
  /** The plugin version text concerned. */
  readonly version?: string | undefined;
  /** The plugin file concerned, absolute. */
  readonly file?: string | undefined;
  /** The error's code (`GLEAN_…`, or a plugin's own). */
  readonly code?: string | undefined;
  /** The error itself, under pino's key, so its serializer prints its stack and `cause`. */
  readonly err?: unknown;
  readonly [field: string]: unknown;
}

/** One kind of line: its level, its message in the structured form, and its console form from the same fields. */
export interface LogLineSpec {
  /** The level, or the function that picks it from the line's fields. */
  readonly level: 'warn' | 'error' | ((fields: LogFields) => 'warn' | 'error');
  /** The structured form's message: the same for every line of the kind, so it can be searched for and alerted on. */
  readonly message: string;
  /** The console form's arguments: the message and details glean wrote before loggers were structured. */
  readonly console: (fields: LogFields) => unknown[];
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Every line glean logs (README, "Logs", lists each with its fields). Internal: the messages are
 * documented, the table is not exported.
 */
export const LogLine = {
  /** A worker thread of a version died: restarted, or its version failed (crash loop), or it was draining. */
  WORKER_CRASHED: {
    level: 'warn',
    message: 'a worker thread crashed',
    console: ({ err, failed, restarting }) => [
      `glean: ${messageOf(err)} (${
        failed === true
          ? 'giving up: version failed'
          : restarting === true
            ? 'restarting the worker'
            : 'not restarted: its version was already replaced'
      })`,
    ],
  },
  /** Terminated worker threads that did not exit within EXIT_TIMEOUT_MS. */
  THREADS_STUCK: {
    level: 'warn',
    message: 'worker threads did not exit after being terminated',
    console: ({ file, version, threadIds, exitTimeoutMs }) => {
      const ids = threadIds as readonly number[];
      return [
        `glean: ${describePlugin({ file: String(file), version: String(version) })}: worker thread${ids.length > 1 ? 's' : ''} ${ids.join(', ')} did not exit within ${String(exitTimeoutMs)} ms of being terminated ` +
          '(blocked in a system call?); not waiting for it. The process cannot exit before that call returns: Node waits for every thread at exit',
      ];
    },
  },
  /** Threads started ahead of time (prewarm) could not start. */
  SPARES_FAILED: {
    level: 'warn',
    message: 'starting spare worker threads failed',
    console: ({ err }) => ['glean: starting spare worker threads failed', err],
  },
  /** A standalone plugin's (loadSymbol) cleanup failed; a Glean's is an `error` event. */
  DISPOSE_FAILED: {
    level: 'warn',
    message: "a plugin's cleanup failed",
    console: ({ err }) => [`glean: ${messageOf(err)}`, (err as { cause?: unknown } | undefined)?.cause],
  },
  /** A canary was rolled back: by its analysis or a crash streak (`error`), or by glean.rollback() (`warn`: an operator's act, not a fault). */
  CANARY_ROLLED_BACK: {
    level: ({ reason }) => (reason === RollbackReason.MANUAL ? 'warn' : 'error'),
    message: 'a canary was rolled back',
    console: ({ id, version, reason, detail }) => [
      `glean: canary ${JSON.stringify(version)} of "${String(id)}" was rolled back (${String(reason)}): ${String(detail)}`,
    ],
  },
  /** An error glean would emit as an `error` event, with no listener for it. */
  UNHANDLED_ERROR: {
    level: 'error',
    message: 'an error with no "error" listener',
    console: ({ err }) => [`glean: ${messageOf(err)}`],
  },
  /** A listener of a Glean event threw, or its promise rejected. */
  LISTENER_THREW: {
    level: 'error',
    message: 'an event listener threw',
    console: ({ event, err }) => [`glean: a "${String(event)}" listener threw`, err],
  },
  /** An HTTP adapter answered 500. */
  HTTP_FAILED: {
    level: 'error',
    message: 'an HTTP request was answered 500',
    console: ({ method, url, status, err }) => [
      `glean: ${String(method)} ${String(url)} answered ${String(status)}:`,
      err,
    ],
  },
  /** An HTTP adapter answered 503 or 504 (not for GLEAN_QUEUE_FULL). */
  HTTP_UNAVAILABLE: {
    level: 'warn',
    message: 'an HTTP request was answered 503 or 504',
    console: ({ method, url, status, err }) => [
      `glean: ${String(method)} ${String(url)} answered ${String(status)}:`,
      err,
    ],
  },
  /** A streamed response body failed after its status was sent. */
  HTTP_STREAM_CUT: {
    level: 'error',
    message: 'a streamed HTTP body failed after its status was sent; the connection was cut',
    console: ({ method, url, status, err }) => [
      `glean: ${String(method)} ${String(url)}: the streamed body failed after status ${String(status)} was sent; the connection was cut:`,
      err,
    ],
  },
  /** An HTTP adapter's `onError` callback threw. */
  HTTP_ON_ERROR_THREW: {
    level: 'error',
    message: 'an HTTP onError callback threw',
    console: ({ err }) => ['glean: an HTTP onError callback threw', err],
  },
} as const satisfies Record<string, LogLineSpec>;

/** The fields a `GleanError` (or any error) brings to a line: the plugin it names, its code, and itself as `err`. */
export function errorFields(error: unknown): LogFields {
  const text = (key: string): string | undefined => {
    try {
      const value: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, key) : undefined;
      return typeof value === 'string' ? value : undefined;
    } catch {
      // A getter that throws: an error from plugin code may be anything.
      return undefined;
    }
  };
  return { id: text('id'), version: text('version'), file: text('file'), code: text('code'), err: error };
}

/** Where glean's lines go: see the module's comment. */
export class Log {
  readonly #target: LogTarget;

  /** `logger`: the option as given (`console` when `undefined`, nothing for `false`); `child()` is called here, once. */
  constructor(logger: Logger | false | undefined) {
    this.#target = logTargetOf(logger);
  }

  /** Writes one line of kind `line`; never throws. */
  write(line: LogLineSpec, fields: LogFields): void {
    const target = this.#target;
    try {
      const level = typeof line.level === 'function' ? line.level(fields) : line.level;
      if (target.form === 'console') target.logger[level](...(line.console(fields) as [string, ...unknown[]]));
      else if (target.form === 'structured')
        target.logger[level]({ ...target.bindings, ...definedOnly(fields) }, line.message);
    } catch {
      // Nowhere left to report to.
    }
  }
}

/** `fields` without the absent ones. */
function definedOnly(fields: LogFields): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) kept[key] = value;
  return kept;
}
