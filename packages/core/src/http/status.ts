/**
 * The status handler: what a Kubernetes readiness probe, a load balancer's health check or an
 * operator asks of a replica ("does it serve? which versions?"), answered as JSON from `status()`,
 * the config's generation and whether the first load resolved.
 */
import type { ActivateEvent } from '../events.js';
import type { Glean } from '../glean.js';
import { engineOf } from '../engines.js';
import type { PluginStatus } from '../registry.js';
import type { CanaryStatus } from '../rollout/canary.js';
import { type RequestListener, writeNodeResponse } from './node.js';
import { errorResponse, type PreparedResponse } from './response.js';

/** Options of {@link statusHandler} (and of the Express and Fastify forms). */
export interface StatusHandlerOptions {
  /**
   * Whether the body lists the generation and every id (file paths, versions, last errors). `false`
   * answers `{ ready }` alone, with the same status, for a port that others than operators can reach.
   * Default `true`.
   */
  details?: boolean;
}

/** The body the status handler answers with (`GET`). */
export interface StatusReport {
  /** Whether the replica serves: every configured id has a version, none failed, the first load resolved, close() not begun. The status is 200 when `true`, 503 otherwise. */
  readonly ready: boolean;
  /** The config as last applied ({@link Glean.generation}): SHA-256 (hex) of its bytes; `null` before the first load. Absent with `details: false`. */
  readonly generation?: string | null;
  /**
   * The last switch to a config with an `activateAt` ({@link Glean.activation}): `{ activateAt,
   * switchedAt, lateMs }`, `lateMs` above 0 when this replica switched late; `null` before one.
   * Absent with `details: false`.
   */
  readonly activation?: ActivateEvent | null;
  /** Every configured id. Absent with `details: false`. */
  readonly plugins?: Readonly<Record<string, StatusReportPlugin>>;
}

/** One id in a {@link StatusReport}: its part of `glean.status()`, in JSON. */
export interface StatusReportPlugin {
  /** `ready`, `loading` (a new version is being prepared), `draining` (after close()) or `failed` (crash loop: the status is then 503). */
  readonly state: PluginStatus['state'];
  /** Absolute path of the plugin file serving the id. */
  readonly file: string;
  /** The config's `version` text; `''` when absent. */
  readonly version: string;
  /** SHA-256 (hex) over everything the version runs (see `status()`). */
  readonly graphHash: string;
  /** How many plugin-owned modules the version loaded. */
  readonly modules: number;
  /** How many worker threads the version has now. */
  readonly threads: number;
  /** Calls not yet settled on the version, and streams not yet ended. */
  readonly inFlight: number;
  /** Calls made through the id's handles, and how many of them rejected. */
  readonly calls: number;
  readonly errors: number;
  /** Worker restarts of the current version after crashes. */
  readonly restarts: number;
  /** The latest failure concerning the id, or `null`: its `code` (`null` unless a string) and `message` (`''` unless a string), each cut to 1024 characters (the last one `…`). */
  readonly lastError: { readonly code: string | null; readonly message: string } | null;
  /** The id's canary (see the README's "Gradual rollout"): its version, weight and state; `null` without one. */
  readonly canary: Pick<CanaryStatus, 'version' | 'weight' | 'state' | 'graphHash'> | null;
}

/** What the report is made of, read from a Glean at the moment of the request. */
export interface StatusInput {
  /** loadConfig() resolved and close() has not begun. */
  readonly serving: boolean;
  readonly generation: string | undefined;
  /** The last `activate` event, if any. Default none. */
  readonly activation?: ActivateEvent | undefined;
  readonly plugins: Readonly<Record<string, PluginStatus>>;
}

/** The headers of every status answer: JSON, never cached (a probe must see the replica as it is now). */
const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;

/** The methods the status handler answers. */
export const STATUS_METHODS = ['GET', 'HEAD'] as const;

/** Pure: the status and body for `input`. 200 when the replica serves and no id failed; 503 otherwise. */
export function statusReport(input: StatusInput, details = true): { status: 200 | 503; report: StatusReport } {
  const states = Object.values(input.plugins).map((plugin) => plugin.state);
  const ready = input.serving && !states.includes('failed');
  const status = ready ? 200 : 503;
  if (!details) return { status, report: { ready } };
  const plugins: Record<string, StatusReportPlugin> = {};
  // Defined, not assigned: an id may be "__proto__".
  for (const [id, plugin] of Object.entries(input.plugins))
    Object.defineProperty(plugins, id, {
      enumerable: true,
      configurable: true,
      writable: true,
      value: entryOf(plugin),
    });
  return {
    status,
    report: { ready, generation: input.generation ?? null, activation: input.activation ?? null, plugins },
  };
}

/** The most of a `lastError`'s `code` and `message` a report carries: a plugin chooses them, and a probe asks every few seconds. */
const MAX_ERROR_TEXT = 1024;

/** `value` when it is a string of at most {@link MAX_ERROR_TEXT} characters, cut to that (ending `…`) when longer; else `undefined`. */
function errorText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.length > MAX_ERROR_TEXT ? `${value.slice(0, MAX_ERROR_TEXT - 1)}…` : value;
}

function entryOf(plugin: PluginStatus): StatusReportPlugin {
  const { lastError } = plugin;
  const { code, message } = (lastError ?? {}) as { code?: unknown; message?: unknown };
  return {
    state: plugin.state,
    file: plugin.file,
    version: plugin.version,
    graphHash: plugin.graphHash,
    modules: plugin.modules,
    threads: plugin.threads.length,
    inFlight: plugin.inFlight,
    calls: plugin.calls,
    errors: plugin.errors,
    restarts: plugin.restarts,
    lastError:
      // A plugin's error arrives with the code and an own enumerable `message` it gave, whatever their type.
      lastError === undefined ? null : { code: errorText(code) ?? null, message: errorText(message) ?? '' },
    canary:
      plugin.canary === undefined
        ? null
        : {
            version: plugin.canary.version,
            weight: plugin.canary.weight,
            state: plugin.canary.state,
            graphHash: plugin.canary.graphHash,
          },
  };
}

/** The response to a status request with `method`, ready to write; never throws. */
export function statusResponse(glean: Glean, method: string, details: boolean): PreparedResponse {
  if (!(STATUS_METHODS as readonly string[]).includes(method)) {
    const refused = errorResponse(405);
    return { ...refused, headers: { ...refused.headers, allow: STATUS_METHODS.join(', ') } };
  }
  let answer: { status: number; report: StatusReport };
  try {
    const engine = engineOf(glean);
    if (engine === undefined) throw new TypeError('not a Glean');
    answer = statusReport(
      {
        serving: engine.serving,
        generation: engine.generation,
        activation: engine.activation,
        plugins: engine.status(),
      },
      details,
    );
  } catch {
    // Whatever went wrong, the probe learns the one thing it needs: not ready.
    answer = {
      status: 503,
      report: details ? { ready: false, generation: null, activation: null, plugins: {} } : { ready: false },
    };
  }
  const body = `${JSON.stringify(answer.report)}\n`;
  return {
    status: answer.status,
    headers: { ...HEADERS, 'content-length': String(Buffer.byteLength(body)) },
    body,
  };
}

/** Throws a TypeError unless `glean` is a Glean: a status handler made for anything else would answer 503 forever. */
export function checkGlean(glean: unknown, what: string): void {
  if (engineOf(glean) === undefined)
    throw new TypeError(`${what} expects a Glean (new Glean(configPath)), got ${describe(glean)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return typeof value;
}

/**
 * A `node:http` request listener answering a Kubernetes readiness probe or an operator:
 * `GET` (and `HEAD`) with a {@link StatusReport} as JSON, status 200 when every configured id has
 * a version serving (a reload under way keeps it 200), 503 while the first load runs, after it
 * failed, after `close()`, or while an id's version has `failed` (crash loop). Other methods are
 * answered 405 with `Allow: GET, HEAD`. Never throws; `cache-control: no-store`.
 *
 * ```js
 * const status = statusHandler(glean);
 * createServer((req, res) => (req.url === '/glean/status' ? status(req, res) : app(req, res)));
 * ```
 *
 * Throws a `TypeError` when `glean` is not a Glean.
 */
export function statusHandler(glean: Glean, options: StatusHandlerOptions = {}): RequestListener {
  checkGlean(glean, 'statusHandler');
  const details = options.details ?? true;
  return (request, response) => {
    writeNodeResponse(response, statusResponse(glean, request.method ?? 'GET', details));
  };
}
