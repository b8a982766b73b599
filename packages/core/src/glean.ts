import { EventEmitter } from 'node:events';
import { guardLogger, type Logger } from './logger.js';
import { dirname, resolve } from 'node:path';
import type { ExportKind } from '@glean/worker/protocol';
import { ConfigIssueCode, readConfig, type GleanConfig } from './config.js';
import { readPlugins } from './plugin-files.js';
import { diffPlugins, versionKey, type PluginSpec } from './diff.js';
import { ErrorCode, GleanError, describePlugin, isGleanError } from './errors.js';
import type { GleanEvents, VersionInfo } from './events.js';
import { HandleState, createHandle, handleState, type Binding, type Handle, type HandleOwner } from './handle.js';
import { newCallStats, type CallStats } from './call-stats.js';
import { Spares } from './spares.js';
import { stuckThreadsMessage } from './slot.js';
import type { SlotLoad } from './slot.js';
import { Version, VersionState, type VersionCrash } from './version.js';
import type { Watcher } from './watch.js';

/** Options of {@link Glean}. */
export interface GleanOptions {
  /** Reload when the config file changes on disk (in place, renamed over, or a Kubernetes ConfigMap swap). Default `true`. */
  watch?: boolean;
  /** With `watch`, also reload when a plugin file's content changes. Default `true`. */
  watchFiles?: boolean;
  /** Where crashes, and `error` events nobody listens to, are written. Default `console`; `false` for silence. */
  logger?: Logger | false;
  /**
   * A change on disk is applied at once; changes in the next this many milliseconds are gathered and
   * applied together when they are up. Default 5.
   */
  debounceMs?: number;
  /**
   * Keep one set of worker threads started ahead of time for each distinct `threads`/`resourceLimits`/language
   * among the running versions, so a reload costs an import instead of a worker start. Costs those idle threads.
   * Default `true`.
   */
  prewarm?: boolean;
  /**
   * Plugin files must lie inside this folder once every symlink is followed; others are refused with
   * `GLEAN_OUTSIDE_ROOT`. Default: the folder holding the config path as given (for a Kubernetes
   * ConfigMap, the folder of the `plugin.json` link, so files reached through `..data` are inside).
   */
  root?: string;
  /** Refuse every plugin that has no `integrity` in the config (`GLEAN_INTEGRITY_REQUIRED`). Default `false`. */
  requireIntegrity?: boolean;
}

/** One id in {@link Glean.status}. */
export interface PluginStatus {
  readonly id: string;
  /** Absolute path of the plugin file now serving the id. */
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly kind: ExportKind;
  /** `loading` while a new version for the id is being prepared; `failed` after a crash loop. */
  readonly state: 'loading' | 'ready' | 'draining' | 'failed';
  /** One entry per live worker thread of the version: its thread id, calls in flight on it, and whether it takes calls (a replacement does once loaded). */
  readonly threads: readonly { readonly threadId: number; readonly inFlight: number; readonly ready: boolean }[];
  /** Calls not yet settled on the id's version (shared with other ids of the same version). */
  readonly inFlight: number;
  /** Calls made through this id's handles since it was first configured. */
  readonly calls: number;
  /** Of those, how many rejected. */
  readonly errors: number;
  /** Worker restarts of the current version after crashes. */
  readonly restarts: number;
  /** The latest failure concerning the id: a failed reload, a crash, a rejected call. */
  readonly lastError: Error | undefined;
}

/** What {@link Glean.findAll} matches. */
export interface FindQuery {
  /** Only object exports that have every one of these methods. */
  methods?: readonly string[];
  /** Only exports of this kind. */
  kind?: ExportKind;
}

interface IdState {
  spec: PluginSpec;
  binding: Binding;
}

/** How long after a switch the next spare threads start. */
const SPARE_DELAY_MS = 10;

/** How long after finding the config (or a plugin file) empty glean reads it again before reporting it. */
const EMPTY_RETRY_MS = 50;

/**
 * Loads the plugin symbols named in a glean config (`[{ id, file, name, version }]`) and keeps
 * handles to them current while the config and the plugin files change. Every plugin version runs
 * in worker threads of its own; see docs/architecture.md.
 */
export class Glean extends EventEmitter<GleanEvents> {
  readonly #configPath: string;
  readonly #options: Required<Omit<GleanOptions, 'logger' | 'root'>>;
  readonly #logger: Logger;
  readonly #ids = new Map<string, IdState>();
  readonly #stats = new Map<string, CallStats>();
  readonly #loadErrors = new Map<string, GleanError>();
  /** Versions that run: current for some id, pinned by a handle, or draining. */
  readonly #live = new Set<Version>();
  /** Current versions by identity, so ids naming the same file, version and options share workers. */
  readonly #byKey = new Map<string, Version>();
  readonly #pending = new Set<string>();
  /** New versions of the generation being applied, not switched to yet: close() stops them at once. */
  readonly #starting = new Set<Version>();
  /** What the workers of a spec's version import: the real path, and the checked bytes when pinned. */
  readonly #loads = new WeakMap<PluginSpec, SlotLoad>();
  readonly #root: string;
  /** Threads started ahead of time (see spares.ts). */
  readonly #spares = new Spares();
  #refilling: Promise<void> = Promise.resolve();
  /** A watcher's read found the config or a plugin file empty: the look again, which reports what it finds. */
  #emptyRetry: NodeJS.Timeout | undefined;
  readonly #owner: HandleOwner;
  #watcher: Watcher | undefined;
  #loaded: Promise<void> | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  /** A reloadConfig() caller waits for the next run. */
  #asked = false;
  #lastOutcome: GleanError | undefined;
  #closing: Promise<void> | undefined;

  /**
   * @param configPath the config file, relative to the working folder or absolute; plugin paths in it are relative to its folder.
   * @param options see {@link GleanOptions}.
   */
  constructor(configPath: string, options: GleanOptions = {}) {
    super();
    this.#configPath = resolve(configPath);
    this.#options = {
      watch: options.watch ?? true,
      watchFiles: options.watchFiles ?? true,
      debounceMs: options.debounceMs ?? 5,
      prewarm: options.prewarm ?? true,
      requireIntegrity: options.requireIntegrity ?? false,
    };
    this.#root = resolve(options.root ?? dirname(this.#configPath));
    this.#logger = guardLogger(options.logger);
    this.#owner = {
      available: () => (this.#closing === undefined ? undefined : this.#closedError()),
      current: (id) => this.#ids.get(id)?.binding ?? this.#notConfigured(id),
      released: () => {},
    };
  }

  /** The config file, absolute. */
  get configPath(): string {
    return this.#configPath;
  }

  /**
   * Reads and validates the config, starts every plugin version and, with `watch`, starts watching.
   * Rejects with `GLEAN_CONFIG_INVALID`, `GLEAN_CONFIG_UNREADABLE`, `GLEAN_LOAD_FAILED` or
   * `GLEAN_SYMBOL_NOT_FOUND` and leaves nothing running. Calling it again returns the same promise.
   */
  loadConfig(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    this.#loaded ??= this.#loadFirst();
    return this.#loaded;
  }

  async #loadFirst(): Promise<void> {
    if (this.#closing !== undefined) throw this.#closedError();
    try {
      await this.#apply();
    } catch (error) {
      this.#loaded = undefined;
      // The refill #apply queued: with no version running it stops every spare, so a failed first load leaves no thread.
      await this.#refilling;
      throw error;
    }
    // Resolve with the spares #apply queued warm, so the first reload is already fast.
    await this.#refilling;
    // Closed meanwhile (by a load listener, a signal handler): start no watcher that nothing would close.
    if (this.#closing !== undefined) throw this.#closedError();
    if (this.#options.watch) {
      // chokidar loads only for instances that watch.
      const { Watcher } = await import('./watch.js');
      this.#watcher = new Watcher({
        configPath: this.#configPath,
        debounceMs: this.#options.debounceMs,
        onChange: () => void this.#schedule().catch(() => {}),
        onError: (error: Error) =>
          this.#emitError(
            new GleanError(ErrorCode.CONFIG_UNREADABLE, `watching ${this.#configPath} failed: ${error.message}`, {
              cause: error,
            }),
          ),
      });
      this.#watchPluginFiles();
      await this.#watcher.ready();
    }
  }

  /**
   * Re-reads the config and the plugin files now, as a change on disk would, and applies what
   * changed. Resolves once applied; rejects with the coded error of a failed reload (also emitted
   * as `error`), in which case nothing changed.
   */
  async reloadConfig(): Promise<void> {
    await this.#ready();
    await this.#schedule(true);
  }

  /** A live handle: every call goes to the id's current version. Rejects `GLEAN_NOT_CONFIGURED` for an unknown id. */
  async reloadAndWatch<T = unknown>(id: string): Promise<Handle<T>> {
    const binding = await this.#bindingFor(id);
    return createHandle(new HandleState(id, binding.description.kind, this.#owner, undefined)) as Handle<T>;
  }

  /** A handle pinned to the id's version current now; it keeps that version's workers alive until released or watched. */
  async reload<T = unknown>(id: string): Promise<Handle<T>> {
    const binding = await this.#bindingFor(id);
    return createHandle(new HandleState(id, binding.description.kind, this.#owner, binding)) as Handle<T>;
  }

  /**
   * From now on `handle` follows changes (glean's Watch); a pinned version it held is let go.
   * The returned promise resolves once that version has retired, if nothing else holds it; no need to await it.
   */
  watch(handle: unknown): Promise<void> {
    return this.#stateOf(handle).follow();
  }

  /**
   * The handle takes no more calls (they reject `GLEAN_RELEASED`); a pinned version it held is let go.
   * Idempotent. Resolves as {@link Glean.watch} does.
   */
  release(handle: unknown): Promise<void> {
    return this.#stateOf(handle).release();
  }

  /** Ids whose current export matches `query` (glean's FindAllPlugins), in config order. */
  findAll(query: FindQuery = {}): string[] {
    const found: string[] = [];
    for (const [id, { binding }] of this.#ids) {
      const { description } = binding;
      if (query.kind !== undefined && description.kind !== query.kind) continue;
      const methods = query.methods ?? [];
      if (
        methods.length > 0 &&
        (description.kind !== 'object' || !methods.every((m) => description.methods.includes(m)))
      )
        continue;
      found.push(id);
    }
    return found;
  }

  /** Per configured id: its file, version, state, threads, calls in flight, counters and last error. */
  status(): Record<string, PluginStatus> {
    const result: Record<string, PluginStatus> = {};
    for (const [id, { spec, binding }] of this.#ids) {
      const { version } = binding;
      const stats = this.#stats.get(id);
      const state = this.#pending.has(id)
        ? 'loading'
        : version.state === VersionState.RETIRED
          ? 'draining'
          : version.state;
      // Defined, not assigned: an id may be "__proto__".
      Object.defineProperty(result, id, {
        enumerable: true,
        configurable: true,
        writable: true,
        value: {
          id,
          file: spec.file,
          name: spec.name,
          version: spec.version,
          kind: binding.description.kind,
          state,
          threads: version.threads.map(({ threadId, inFlight, ready }) => ({ threadId, inFlight, ready })),
          inFlight: version.inFlight,
          calls: stats?.calls ?? 0,
          errors: stats?.errors ?? 0,
          restarts: version.restarts,
          lastError: this.#loadErrors.get(id) ?? stats?.lastError ?? version.lastError,
        } satisfies PluginStatus,
      });
    }
    return result;
  }

  /**
   * Stops watching, lets calls in flight finish (each version up to its `drainTimeoutMs`), then
   * terminates every worker. A reload under way is not applied: its new workers are stopped at once,
   * even mid-import, with no `error` event; a waiting `reloadConfig()` rejects `GLEAN_CLOSED`.
   * Idempotent: returns the same promise. Afterwards every method and handle rejects `GLEAN_CLOSED`.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#emptyRetry);
      // A load under way would otherwise hold close() up to its loadTimeoutMs.
      for (const version of this.#starting) void version.retire();
      await this.#watcher?.close();
      await this.#loaded?.catch(() => {});
      // A first load under way when close() began may have started its watcher since.
      await this.#watcher?.close();
      await this.#running?.catch(() => {});
      await this.#refillSpares(0);
      await Promise.all([...this.#live].map((version) => version.retire()));
    })();
    return this.#closing;
  }

  async #ready(): Promise<void> {
    if (this.#closing !== undefined) throw this.#closedError();
    if (this.#loaded === undefined) {
      throw new GleanError(
        ErrorCode.NOT_CONFIGURED,
        `config ${this.#configPath} is not loaded yet; call loadConfig() first`,
      );
    }
    await this.#loaded;
  }

  async #bindingFor(id: string): Promise<Binding> {
    await this.#ready();
    const binding = this.#owner.current(id);
    if (binding instanceof GleanError) throw binding;
    return binding;
  }

  #stateOf(handle: unknown): HandleState {
    const state = handleState(handle);
    if (state === undefined || state.owner !== this.#owner) {
      throw new TypeError('expected a handle returned by this Glean (reload or reloadAndWatch)');
    }
    return state;
  }

  /**
   * Runs reloads one at a time; calls during a run coalesce into one more run with the latest files.
   * `asked`: a reloadConfig() caller waits for this run, so its outcome is reported at once.
   */
  #schedule(asked = false): Promise<void> {
    this.#dirty = true;
    if (asked) this.#asked = true;
    this.#running ??= (async () => {
      try {
        while (this.#dirty && this.#closing === undefined) {
          this.#dirty = false;
          const asked = this.#asked;
          this.#asked = false;
          this.#lastOutcome = undefined;
          try {
            const heldBack = await this.#apply(!asked);
            if (heldBack === undefined) this.#endEmptyWait();
            else {
              this.#lastOutcome = heldBack;
              if (this.#closing === undefined) this.#seenEmpty();
            }
          } catch (error) {
            this.#lastOutcome = error as GleanError;
            // close() ended the reload: a caller of reloadConfig() learns it from the rejection; no error to report.
            if (this.#closing !== undefined) continue;
            this.#endEmptyWait();
            this.#emitError(error as GleanError);
          }
        }
        // close() came before a reloadConfig() caller's run could start: that reload is not applied.
        if (this.#asked && this.#closing !== undefined) {
          this.#asked = false;
          this.#lastOutcome = this.#closedError();
        }
      } finally {
        this.#running = undefined;
      }
      if (this.#lastOutcome !== undefined) throw this.#lastOutcome;
    })();
    return this.#running;
  }

  /**
   * A file written in place is empty for a moment (truncated, not yet written). When a watcher's read
   * finds the config or a plugin file empty, look again EMPTY_RETRY_MS later, as reloadConfig() does:
   * that read reports what it finds. Reads for more events of the same write wait for the same look.
   */
  #seenEmpty(): void {
    this.#emptyRetry ??= setTimeout(() => {
      this.#emptyRetry = undefined;
      void this.#schedule(true).catch(() => {});
    }, EMPTY_RETRY_MS);
  }

  /** A read found nothing empty, or its outcome was reported: no look again is due. */
  #endEmptyWait(): void {
    clearTimeout(this.#emptyRetry);
    this.#emptyRetry = undefined;
  }

  /**
   * One generation: read, diff, start what is new, then switch every touched id at once — or change nothing.
   * `holdEmpty`: a config or plugin file found empty stops the run before anything loads, and the error it
   * would have been is returned, not thrown (see {@link Glean.#seenEmpty}).
   */
  async #apply(holdEmpty = false): Promise<GleanError | undefined> {
    let config: GleanConfig;
    try {
      config = await readConfig(this.#configPath);
    } catch (error) {
      const empty =
        isGleanError(error, ErrorCode.CONFIG_INVALID) && error.issues?.[0]?.code === ConfigIssueCode.EMPTY_FILE;
      if (holdEmpty && empty) return error;
      throw error;
    }
    const read = await readPlugins(config, this.#root, this.#options.requireIntegrity).catch((error: GleanError) => {
      if (error.id !== undefined) this.#loadErrors.set(error.id, error);
      throw error;
    });
    const empty = holdEmpty ? read.find((plugin) => plugin.empty) : undefined;
    if (empty !== undefined) {
      const { id, file, version } = empty.spec;
      return new GleanError(ErrorCode.LOAD_FAILED, `${describePlugin(id, file, version)}: the plugin file is empty`, {
        id,
        file,
        version,
      });
    }
    for (const { spec, load } of read) this.#loads.set(spec, load);
    const latest = read.map(({ spec }) => spec);
    const diff = diffPlugins(
      [...this.#ids.values()].map((s) => s.spec),
      latest,
    );
    const failedNow = diff.unchanged.filter(
      (spec) => this.#ids.get(spec.id)?.binding.version.state === VersionState.FAILED,
    );
    const incoming = [...diff.added, ...diff.changed.map((c) => c.to), ...failedNow];
    if (incoming.length === 0 && diff.removed.length === 0) return;

    const fresh = new Map<string, { version: Version; names: Set<string> }>();
    const plan: { spec: PluginSpec; version: Version }[] = [];
    for (const spec of incoming) {
      const key = versionKey(spec);
      const reusable = this.#byKey.get(key);
      let version =
        reusable !== undefined && reusable.state === VersionState.READY ? reusable : fresh.get(key)?.version;
      if (version === undefined) {
        version = new Version(
          {
            key,
            id: spec.id,
            file: spec.file,
            version: spec.version,
            contentHash: spec.contentHash,
            options: spec.options,
            realFile: this.#loads.get(spec)!.file,
            source: this.#loads.get(spec)!.source,
          },
          {
            onCrash: (crash) => this.#onCrash(crash),
            onRetire: (retired) => this.#onRetire(retired),
            onStale: () => void this.#schedule().catch(() => {}),
            onStuck: (stuck, threadIds) => this.#onStuck(stuck, threadIds),
          },
          await this.#spares.take(spec),
        );
        fresh.set(key, { version, names: new Set() });
        this.#starting.add(version);
      }
      fresh.get(key)?.names.add(spec.name);
      plan.push({ spec, version });
    }

    for (const spec of incoming) this.#pending.add(spec.id);
    const failures: GleanError[] = [];
    const started: Version[] = [];
    try {
      // Closed while spares were taken: close() stopped the new versions it saw; stop the rest.
      if (this.#closing !== undefined) {
        await Promise.all([...fresh.values()].map(({ version }) => version.retire()));
        throw this.#closedError();
      }
      await Promise.all(
        [...fresh.values()].map(({ version, names }) =>
          version.start([...names]).then(
            () => void started.push(version),
            (error: GleanError) => void failures.push(error),
          ),
        ),
      );
      const bindings = new Map<string, Binding>();
      for (const { spec, version } of plan) {
        if (failures.length > 0) break;
        try {
          const description = await version.ensureExport(spec.name, spec.id);
          const before = this.#ids.get(spec.id)?.binding.description.kind;
          if (before !== undefined && before !== description.kind) {
            throw new GleanError(
              ErrorCode.KIND_CHANGED,
              `${describePlugin(spec.id, spec.file, spec.version)}: export "${spec.name}" is a ${description.kind}, the running version's is a ${before}; handles cannot change kind`,
              { id: spec.id, file: spec.file, version: spec.version },
            );
          }
          bindings.set(spec.id, { version, name: spec.name, description, stats: this.#statsOf(spec.id) });
        } catch (error) {
          failures.push(error as GleanError);
        }
      }
      if (failures.length > 0 || this.#closing !== undefined) {
        await Promise.all(started.map((version) => version.retire()));
        for (const failure of failures) if (failure.id !== undefined) this.#loadErrors.set(failure.id, failure);
        if (this.#closing !== undefined) throw this.#closedError();
        throw failures.length === 1 ? failures[0] : this.#combined(failures);
      }
      this.#commit(plan, bindings, diff.removed);
    } finally {
      for (const spec of incoming) this.#pending.delete(spec.id);
      for (const { version } of fresh.values()) this.#starting.delete(version);
      // In the background: starting threads blocks the main thread for milliseconds, so the new version's first calls go first.
      void this.#refillSpares(SPARE_DELAY_MS);
    }
  }

  /** Switches every touched id in one synchronous step, so no caller sees half a generation. */
  #commit(
    plan: readonly { spec: PluginSpec; version: Version }[],
    bindings: ReadonlyMap<string, Binding>,
    removed: readonly PluginSpec[],
  ): void {
    const released: Version[] = [];
    const events: (() => void)[] = [];
    for (const { spec, version } of plan) {
      const binding = bindings.get(spec.id)!;
      const before = this.#ids.get(spec.id);
      if (!this.#live.has(version)) this.#live.add(version);
      this.#byKey.set(version.spec.key, version);
      version.ref();
      this.#ids.set(spec.id, { spec, binding });
      this.#loadErrors.delete(spec.id);
      if (before === undefined) {
        events.push(() => this.#announce('load', { id: spec.id, kind: binding.description.kind, to: info(version) }));
      } else {
        released.push(before.binding.version);
        events.push(() =>
          this.#announce('reload', { id: spec.id, from: info(before.binding.version), to: info(version) }),
        );
      }
    }
    for (const spec of removed) {
      const before = this.#ids.get(spec.id);
      if (before === undefined) continue;
      this.#ids.delete(spec.id);
      this.#loadErrors.delete(spec.id);
      released.push(before.binding.version);
      events.push(() => this.#announce('remove', { id: spec.id, from: info(before.binding.version) }));
    }
    for (const version of released) {
      version.unref();
      if (version.refs === 0 && this.#byKey.get(version.spec.key) === version) this.#byKey.delete(version.spec.key);
    }
    this.#watchPluginFiles();
    for (const emit of events) emit();
  }

  /**
   * After `delayMs`, one spare per thread shape of the running versions (none when closing or with
   * prewarm off). Refills run one after another; the promise resolves once this one's spares are warm.
   */
  #refillSpares(delayMs: number): Promise<void> {
    this.#refilling = this.#refilling
      .then(() => new Promise((resolve) => setTimeout(resolve, delayMs)))
      .then(() => {
        const running =
          this.#options.prewarm && this.#closing === undefined ? [...this.#ids.values()].map(({ spec }) => spec) : [];
        return this.#spares.refill(running);
      })
      .catch((error: unknown) => this.#logger.warn('glean: starting spare worker threads failed', error));
    return this.#refilling;
  }

  #watchPluginFiles(): void {
    if (this.#watcher === undefined || !this.#options.watchFiles) return;
    this.#watcher.setPluginFiles(new Set([...this.#ids.values()].map(({ spec }) => spec.file)));
  }

  #statsOf(id: string): CallStats {
    let stats = this.#stats.get(id);
    if (stats === undefined) {
      stats = newCallStats(id);
      this.#stats.set(id, stats);
    }
    return stats;
  }

  #idsOf(version: Version): string[] {
    return [...this.#ids].filter(([, state]) => state.binding.version === version).map(([id]) => id);
  }

  #onCrash({ version, threadId, error, failed, restarting }: VersionCrash): void {
    const ids = this.#idsOf(version);
    const next = failed
      ? 'giving up: version failed'
      : restarting
        ? 'restarting the worker'
        : 'not restarted: its version was already replaced';
    this.#logger.warn(`glean: ${error.message} (${next})`);
    this.#announce('crash', { ids, version: info(version), threadId, error, failed, restarting });
  }

  #onRetire(version: Version): void {
    this.#live.delete(version);
    if (this.#byKey.get(version.spec.key) === version) this.#byKey.delete(version.spec.key);
    this.#announce('retire', { version: info(version) });
  }

  #onStuck(version: Version, threadIds: readonly number[]): void {
    this.#logger.warn(
      stuckThreadsMessage(describePlugin(undefined, version.spec.file, version.spec.version), threadIds),
    );
  }

  #emitError(error: GleanError): void {
    if (this.listenerCount('error') > 0) this.#announce('error', error);
    else this.#logger.error(`glean: ${error.message}`);
  }

  /**
   * Calls every listener of `event`, each apart: one that throws, or returns a promise that rejects,
   * is reported through the logger and changes nothing, not the outcome of what emitted, nor the
   * listeners after it.
   */
  #announce<K extends keyof GleanEvents>(event: K, ...args: GleanEvents[K]): void {
    for (const listener of this.rawListeners(event)) {
      try {
        const returned: unknown = Reflect.apply(listener, this, args);
        if (returned instanceof Promise) returned.catch((error: unknown) => this.#listenerFailed(event, error));
      } catch (error) {
        this.#listenerFailed(event, error);
      }
    }
  }

  #listenerFailed(event: keyof GleanEvents, error: unknown): void {
    this.#logger.error(`glean: a "${event}" listener threw`, error);
  }

  #notConfigured(id: string): GleanError {
    const known = [...this.#ids.keys()];
    return new GleanError(
      ErrorCode.NOT_CONFIGURED,
      `"${id}" is not configured in ${this.#configPath}; configured ids are: ${known.length > 0 ? known.join(', ') : '(none)'}`,
      { id },
    );
  }

  #closedError(): GleanError {
    return new GleanError(ErrorCode.CLOSED, `glean for ${this.#configPath} is closed`);
  }

  #combined(failures: readonly GleanError[]): GleanError {
    const first = failures[0]!;
    return new GleanError(
      first.code,
      `${failures.length} plugins failed to load; nothing changed:\n  ${failures.map((f) => f.message).join('\n  ')}`,
      {
        cause: new AggregateError(failures),
        id: first.id,
        file: first.file,
        version: first.version,
      },
    );
  }
}

function info(version: Version): VersionInfo {
  const { file, version: text, contentHash } = version.spec;
  return { file, version: text, contentHash };
}
