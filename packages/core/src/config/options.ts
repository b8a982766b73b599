/**
 * How a plugin version runs: the option types, their built-in values and bounds, how an entry's options
 * merge over `defaults`, and when two option sets make the same version.
 */

/**
 * Node's worker `resourceLimits`, in megabytes; each absent key keeps Node's default. Each is bounded
 * (a value outside is `GLEAN_CONFIG_INVALID`), as Node would let some values abort the whole process.
 */
export interface ResourceLimits {
  /** Heap for long-lived objects, 16..1048576. */
  maxOldGenerationSizeMb?: number;
  /** Heap for new objects, 1..1048576. */
  maxYoungGenerationSizeMb?: number;
  /** Address space reserved for compiled code, per thread, 1..1024. */
  codeRangeSizeMb?: number;
  /** The thread's stack, 1..1024; Node's default is 4. */
  stackSizeMb?: number;
}

/**
 * The range of each resource limit, in MB. Node passes these to V8 and to the thread's stack unchecked,
 * and some values outside them take the whole process down, not the worker (measured on Node 20.20,
 * 22.23 and 24.22, x64 Linux; docs/errors.md has the numbers):
 * - `stackSizeMb` at 0.23 or less overflows the stack while the thread boots (exit 6, SIGSEGV or exit 10
 *   by version), from 2^44 (1.8e13) it wraps around to the same; from about the machine's RAM the thread
 *   cannot start (ERR_WORKER_INIT_FAILED).
 * - `maxOldGenerationSizeMb` at 2.4 or less is a fatal out-of-memory (SIGTRAP) on Node 22 and 24; glean's
 *   own worker needs more than 8 to load on them.
 * - `codeRangeSizeMb` is reserved as address space by every thread: 8e7 for one thread, or 2e5 for 600,
 *   exhausts it (SIGTRAP, "Failed to reserve virtual memory for CodeRange").
 * - `maxYoungGenerationSizeMb` did no harm at any value; V8 clamps it.
 * Each range keeps well inside what started a worker and served a call on all three.
 */
export const RESOURCE_LIMIT_RANGES = {
  maxOldGenerationSizeMb: { min: 16, max: 1_048_576 },
  maxYoungGenerationSizeMb: { min: 1, max: 1_048_576 },
  codeRangeSizeMb: { min: 1, max: 1024 },
  stackSizeMb: { min: 1, max: 1024 },
} as const satisfies Record<keyof ResourceLimits, { min: number; max: number }>;

/** The resource limit keys, in the order option keys are written. */
export const LIMIT_KEYS = Object.keys(RESOURCE_LIMIT_RANGES) as (keyof ResourceLimits)[];

/**
 * What a plugin's `process.env` starts as: `'inherit'`, a copy of the host's variables as they are when
 * each worker starts; `'none'`, no variables; or exactly the variables given. Either way it is the
 * worker's own copy: what a plugin changes in it reaches neither the host nor other versions.
 */
export type EnvOption = 'inherit' | 'none' | Readonly<Record<string, string>>;

/**
 * How an id moves to a new version on a change: `'overlap'`, the new version starts and takes calls
 * while the old one drains; `'drain-first'`, the old version stops taking calls, drains, runs its
 * cleanup and ends its threads, and only then does the new one start (for a plugin that holds
 * something only one may: a port, a lock). Calls made meanwhile wait in the queue.
 */
export type HandoverOption = 'overlap' | 'drain-first';

/** How one plugin version runs; see {@link DEFAULT_PLUGIN_OPTIONS} for the defaults. */
export interface PluginOptions {
  /** Worker threads for this version, 1..256; default 1. */
  threads: number;
  /** Per-call timeout in ms; default `undefined` (none). */
  timeoutMs: number | undefined;
  /** Time allowed for the plugin file to load, in ms; default 10000. */
  loadTimeoutMs: number;
  /** Time calls on a retired version may still run before its workers are terminated, in ms; default 30000. */
  drainTimeoutMs: number;
  /** Time each worker's cleanup (`dispose`, then `onDispose` functions) may take when it ends, in ms; default 5000; `0`: no cleanup runs. */
  disposeTimeoutMs: number;
  /** How an id moves to a new version of this plugin, see {@link HandoverOption}; default `'overlap'`. */
  handover: HandoverOption;
  /** Calls that may wait for a worker; default `Infinity`. */
  maxQueue: number;
  /** Calls in flight per worker; default `Infinity`. */
  concurrency: number;
  /** Node's worker resource limits, merged key by key over `defaults` and the built-in `{ maxOldGenerationSizeMb: 1024 }`; other keys keep Node's own. */
  resourceLimits: ResourceLimits | undefined;
  /** Subresource Integrity value(s) the plugin file's bytes must match (`sha384-<base64>`, space-separated for several); default `undefined` (not checked). */
  integrity: string | undefined;
  /** The plugin's environment variables, see {@link EnvOption}; default `'inherit'`. */
  env: EnvOption;
}

/** Built-in option values, used where neither the plugin entry nor `defaults` sets one. */
export const DEFAULT_PLUGIN_OPTIONS: Readonly<PluginOptions> = Object.freeze({
  threads: 1,
  timeoutMs: undefined,
  loadTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  disposeTimeoutMs: 5000,
  handover: 'overlap',
  maxQueue: Infinity,
  concurrency: Infinity,
  // A leaking plugin dies alone at 1 GiB of heap instead of growing with the host's limit.
  resourceLimits: Object.freeze({ maxOldGenerationSizeMb: 1024 }),
  integrity: undefined,
  env: 'inherit',
});

/** The options one place of a config file sets (a plugin entry, or `defaults`), as validated: absent keys are unset. */
export type OptionLayer = {
  readonly [Key in Exclude<keyof PluginOptions, 'resourceLimits'>]?: PluginOptions[Key] | undefined;
} & {
  readonly resourceLimits?: { readonly [Key in keyof ResourceLimits]?: number | undefined } | undefined;
};

const OPTION_KEYS = Object.keys(DEFAULT_PLUGIN_OPTIONS) as (keyof PluginOptions)[];

/** An entry's options over the `defaults` over the built-ins; `resourceLimits` merge key by key. */
export function mergeOptions(defaults: OptionLayer | undefined, own: OptionLayer): Readonly<PluginOptions> {
  return mergeLayers([own, defaults]);
}

/**
 * Option layers merged, the first that sets an option winning, over the built-ins (an entry over
 * `defaults`; a canary over its entry over `defaults`); `resourceLimits` merge key by key, `env`
 * is taken whole from the first layer that sets it.
 */
export function mergeLayers(layers: readonly (OptionLayer | undefined)[]): Readonly<PluginOptions> {
  const first = <K extends Exclude<keyof PluginOptions, 'resourceLimits'>>(key: K): PluginOptions[K] => {
    for (const layer of layers) {
      const value = layer?.[key];
      if (value !== undefined) return value as PluginOptions[K];
    }
    return DEFAULT_PLUGIN_OPTIONS[key];
  };
  const limits: ResourceLimits = {};
  for (const key of LIMIT_KEYS) {
    let value: number | undefined;
    for (const layer of layers) value ??= layer?.resourceLimits?.[key];
    value ??= DEFAULT_PLUGIN_OPTIONS.resourceLimits?.[key];
    if (value !== undefined) limits[key] = value;
  }
  return Object.freeze({
    threads: first('threads'),
    timeoutMs: first('timeoutMs'),
    loadTimeoutMs: first('loadTimeoutMs'),
    drainTimeoutMs: first('drainTimeoutMs'),
    disposeTimeoutMs: first('disposeTimeoutMs'),
    handover: first('handover'),
    maxQueue: first('maxQueue'),
    concurrency: first('concurrency'),
    resourceLimits: Object.keys(limits).length > 0 ? Object.freeze(limits) : undefined,
    integrity: first('integrity'),
    // A layer's env replaces the ones under it whole: merging could not express "all of these but not that one".
    env: freezeEnv(first('env')),
  });
}

function freezeEnv(env: EnvOption): EnvOption {
  return typeof env === 'string' ? env : Object.freeze({ ...env });
}

/** Deep equality of two option sets; an empty `resourceLimits` equals an absent one, `env` objects compare by content. */
export function pluginOptionsEqual(a: PluginOptions, b: PluginOptions): boolean {
  return optionsKey(a) === optionsKey(b);
}

/** Canonical string of an option set: equal strings exactly when {@link pluginOptionsEqual}. Internal, for version identity. */
export function optionsKey(options: PluginOptions): string {
  const parts = OPTION_KEYS.filter((key) => key !== 'resourceLimits' && key !== 'integrity' && key !== 'env').map(
    (key) => `${key}=${String(options[key])}`,
  );
  // JSON for the free-text options, so no value can fake a separator; env's keys sorted, as their order means nothing.
  const { integrity, env } = options;
  parts.push(`integrity=${integrity === undefined ? 'none' : JSON.stringify(integrity)}`);
  parts.push(
    `env=${typeof env === 'string' ? env : JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`,
  );
  for (const key of LIMIT_KEYS) {
    const value = options.resourceLimits?.[key];
    if (value !== undefined) parts.push(`resourceLimits.${key}=${value}`);
  }
  return parts.join(';');
}
