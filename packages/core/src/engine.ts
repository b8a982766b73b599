import { dirname, join, resolve } from 'node:path';
import { ErrorCode, GleanError } from './errors.js';
import type { ActivateEvent, GleanEvents } from './events.js';
import { applyGeneration, versionInfo } from './generation.js';
import type { CallOptions } from './call-options.js';
import type { Binding, HandleOwner } from './handle.js';
import { EXIT_TIMEOUT_MS } from './slot.js';
import { type Log, LogLine, errorFields } from './log.js';
import { RollbackReason } from './rollout/analysis.js';
import type { Canary, CanaryHost } from './rollout/canary.js';
import { LOCKFILE_NAME, lockKeysFor } from './lockfile.js';
import { useCompiler } from './modules/compile.js';
import { ReloadLoop } from './reload-loop.js';
import { isInside, realRootOf, rootURLOf } from './root.js';
import { type FindQuery, type PluginStatus, Registry } from './registry.js';
import { Spares } from './spares.js';
import { VersionBook } from './version-book.js';
import type { PluginVersion, VersionCrash, VersionHooks } from './version.js';
import type { Watcher } from './watch.js';

/** How long after a switch the next spare threads start. */
const SPARE_DELAY_MS = 10;

/** The options the engine runs with, defaults applied. */
export interface EngineOptions {
  readonly watch: boolean;
  readonly watchFiles: boolean;
  readonly debounceMs: number;
  readonly prewarm: boolean;
  readonly requireIntegrity: boolean;
  /** The plugin root, absolute; default the config's folder. */
  readonly root: string | undefined;
  /** The lockfile: a path (used when it exists), or `false` for none. Default: glean.lock.json beside the config. */
  readonly lockfile?: string | false | undefined;
}

/** How the engine speaks to the application: through the facade's events, or its logger. */
export interface EngineOutput {
  /** Where lines go when no event says it (see log.ts). */
  readonly log: Log;
  /** Calls every listener of `event`; one that throws changes nothing. */
  announce<K extends keyof GleanEvents>(event: K, ...args: GleanEvents[K]): void;
  /** Whether anyone listens to `event`. */
  listens(event: keyof GleanEvents): boolean;
}

/**
 * What a {@link Glean} runs on: the per-id registry, the version books, the spare threads, the
 * reload loop and the watcher, and the first load and the close that start and end them all.
 */
export class GleanEngine {
  readonly configPath: string;
  readonly #options: EngineOptions;
  readonly #root: string;
  /** The root's real path as a `file:` URL: what the workers' module hooks take as plugin-owned. */
  readonly #rootURL: string;
  /** The lockfile looked for at every generation; `undefined`: none. */
  readonly #lockfile: string | undefined;
  readonly #out: EngineOutput;
  readonly #registry = new Registry();
  readonly #versions = new VersionBook();
  /** Threads started ahead of time (see spares.ts). */
  readonly #spares: Spares;
  /** Lets the TypeScript compiler's service go once the last glean in the process closed. */
  readonly #releaseCompiler = useCompiler();
  readonly #loop: ReloadLoop;
  readonly #hooks: VersionHooks;
  readonly #canaryHost: CanaryHost;
  /** What handles ask: where an id's calls go now. */
  readonly owner: HandleOwner;
  /** Told of every failed reload, heard or not (engines.ts `onReloadFailed`: the metrics). */
  readonly reloadFailures = new Set<(error: GleanError) => void>();
  #watcher: Watcher | undefined;
  #loaded: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** The SHA-256 (hex) of the config bytes the last successful generation applied; see {@link Glean.generation}. */
  #generation: string | undefined;
  /** loadConfig() has resolved once. */
  #firstLoadDone = false;
  /** Aborted by close(): a change waiting for its activateAt stops at once. */
  readonly #closeSignal = new AbortController();
  /** The last `activate` event. */
  #activation: ActivateEvent | undefined;

  constructor(configPath: string, options: EngineOptions, out: EngineOutput) {
    this.configPath = resolve(configPath);
    this.#options = options;
    this.#root = resolve(options.root ?? dirname(this.configPath));
    this.#rootURL = rootURLOf(this.#root);
    this.#lockfile =
      options.lockfile === false
        ? undefined
        : resolve(options.lockfile ?? join(dirname(this.configPath), LOCKFILE_NAME));
    this.#spares = new Spares(this.#rootURL);
    this.#out = out;
    this.#hooks = {
      onCrash: (crash) => this.#onCrash(crash),
      onRetire: (retired) => this.#onRetire(retired),
      onGraphGrew: () => this.#watchPluginFiles(),
      onStuck: (stuck, threadIds) => this.#onStuck(stuck, threadIds),
      onDisposeFailed: (version, error) => this.#onDisposeFailed(version, error),
    };
    this.#canaryHost = {
      announce: (event, ...args) => this.#out.announce(event, ...args),
      rolledBack: (event) => this.#out.log.write(LogLine.CANARY_ROLLED_BACK, { ...event }),
      release: (version) => this.#versions.release(version),
    };
    this.#loop = new ReloadLoop({
      apply: (holdEmpty, newer) => this.#apply(holdEmpty, newer),
      closing: () => this.closed,
      closedError: () => this.closedError(),
      report: (error) => {
        for (const listener of this.reloadFailures) {
          try {
            listener(error);
          } catch {
            // The metrics' own counting: nothing of the reload depends on it.
          }
        }
        this.#emitError(error);
      },
    });
    this.owner = {
      available: () => (this.closed ? this.closedError() : undefined),
      current: (id, options) => this.#route(id, options),
      stats: (id) => this.#registry.record(id).stats,
      observers: new Set(),
    };
  }

  /** close() has begun. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** See {@link Glean.generation}. */
  get generation(): string | undefined {
    return this.#generation;
  }

  /** loadConfig() resolved and close() has not begun: every configured id has a version (the status handler's 200). */
  get serving(): boolean {
    return this.#firstLoadDone && !this.closed;
  }

  /** The first load: see {@link Glean.loadConfig}. */
  loadConfig(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    this.#loaded ??= this.#loadFirst();
    return this.#loaded;
  }

  /** See {@link Glean.reloadConfig}. */
  async reloadConfig(): Promise<void> {
    await this.#ready();
    await this.#loop.schedule(true);
  }

  /** Where `id`'s calls go now, once the config is loaded; rejects `GLEAN_NOT_CONFIGURED` or `GLEAN_CLOSED`. */
  async bindingFor(id: string): Promise<Binding> {
    await this.#ready();
    if (this.closed) throw this.closedError();
    // The serving (stable) version, never a canary: a pinned handle holds what the entry names.
    return this.#registry.serving(id)?.binding ?? Promise.reject(this.#notConfigured(id));
  }

  /** See {@link Glean.rollback}. */
  rollback(id: string): Promise<void> {
    const canary = this.#canaryOf(id, 'roll back');
    const version = canary.version;
    canary.rollback(RollbackReason.MANUAL, 'rolled back by glean.rollback()');
    // Its retirement, unless something else still holds the version (a pinned handle, another id).
    return version !== undefined && version.refs === 0 ? version.retire() : Promise.resolve();
  }

  /** See {@link Glean.hold}. */
  hold(id: string, held: boolean): void {
    this.#canaryOf(id, held ? 'hold' : 'release the hold on').hold(held);
  }

  findAll(query: FindQuery): string[] {
    return this.#registry.findAll(query);
  }

  status(): Record<string, PluginStatus> {
    return this.#registry.status();
  }

  /** Every plugin-owned module the serving versions loaded, by lockfile key (see lockfile.ts), with its integrity value. */
  async lockEntries(): Promise<Map<string, string>> {
    const key = await lockKeysFor(this.#root);
    const entries = new Map<string, string>();
    for (const id of this.#registry.ids()) {
      const version = this.#registry.serving(id)?.binding.pluginVersion;
      for (const { realPath, integrity } of version?.graph.modules() ?? []) entries.set(key(realPath), integrity);
    }
    return entries;
  }

  /** See {@link Glean.activation}. */
  get activation(): ActivateEvent | undefined {
    return this.#activation;
  }

  /** See {@link Glean.close}. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closeSignal.abort();
      // A stream is read for as long as its reader likes: close() ends it at once rather than wait (its finally still runs).
      this.#versions.endStreams(
        (id) =>
          new GleanError(ErrorCode.CLOSED, `glean for ${this.configPath} closed while "${id}" streamed a result`, {
            id,
          }),
      );
      this.#loop.stop();
      // Analyses stop: nothing is rolled back or stepped while everything ends.
      for (const record of this.#registry.entries()) record.canary?.end();
      // A load under way would otherwise hold close() up to its loadTimeoutMs.
      this.#versions.stopStarting();
      await this.#watcher?.close();
      await this.#loaded?.catch(() => {});
      // A first load under way when close() began may have started its watcher since.
      await this.#watcher?.close();
      await this.#loop.running;
      await this.#refillSpares(0);
      await this.#versions.retireAll();
      await this.#releaseCompiler();
    })();
    return this.#closing;
  }

  closedError(): GleanError {
    return new GleanError(ErrorCode.CLOSED, `glean for ${this.configPath} is closed`);
  }

  async #loadFirst(): Promise<void> {
    if (this.closed) throw this.closedError();
    try {
      await this.#apply(false);
    } catch (error) {
      this.#loaded = undefined;
      // The refill #apply queued: with no version running it stops every spare, so a failed first load leaves no thread.
      await this.#spares.refilled;
      throw error;
    }
    // Resolve with the spares #apply queued warm, so the first reload is already fast.
    await this.#spares.refilled;
    // Closed meanwhile (by a load listener, a signal handler): start no watcher that nothing would close.
    if (this.closed) throw this.closedError();
    if (this.#options.watch) {
      // chokidar loads only for instances that watch.
      const { Watcher } = await import('./watch.js');
      this.#watcher = new Watcher({
        configPath: this.configPath,
        debounceMs: this.#options.debounceMs,
        onChange: () => void this.#loop.schedule().catch(() => {}),
        onError: (error: Error) =>
          this.#emitError(
            new GleanError(ErrorCode.CONFIG_UNREADABLE, `watching ${this.configPath} failed: ${error.message}`, {
              cause: error,
            }),
          ),
      });
      this.#watchPluginFiles();
      await this.#watcher.ready();
    }
    this.#firstLoadDone = true;
  }

  async #ready(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (this.#loaded === undefined) {
      throw new GleanError(
        ErrorCode.NOT_CONFIGURED,
        `config ${this.configPath} is not loaded yet; call loadConfig() first`,
      );
    }
    await this.#loaded;
  }

  /**
   * One generation (see generation.ts); once it switched, the plugin files watched and the switch
   * announced. `newer`: a reload's, aborted by a newer change (absent for the first load, which waits
   * for no activateAt).
   */
  async #apply(holdEmpty: boolean, newer?: AbortSignal): Promise<GleanError | undefined> {
    const superseded = newer === undefined ? undefined : this.#supersededBy(newer);
    const outcome = await applyGeneration(
      {
        configPath: this.configPath,
        root: this.#root,
        rootURL: this.#rootURL,
        lockfile: this.#lockfile,
        requireIntegrity: this.#options.requireIntegrity,
        registry: this.#registry,
        versions: this.#versions,
        spares: this.#spares,
        hooks: this.#hooks,
        canaryHost: this.#canaryHost,
        closing: () => this.closed,
        closedError: () => this.closedError(),
        // In the background: starting threads blocks the main thread for milliseconds, so the new version's first calls go first.
        afterStart: () => void this.#refillSpares(SPARE_DELAY_MS),
        ...(superseded !== undefined && { superseded: superseded.signal }),
      },
      holdEmpty,
    ).finally(() => superseded?.done());
    if ('heldBack' in outcome) return outcome.heldBack;
    if ('superseded' in outcome) return undefined;
    this.#generation = outcome.configHash;
    if (outcome.events.length === 0) return undefined;
    this.#watchPluginFiles();
    for (const [event, ...args] of outcome.events) {
      if (event === 'activate') this.#activation = args[0] as ActivateEvent;
      this.#out.announce(event, ...(args as GleanEvents[typeof event]));
    }
    return undefined;
  }

  /** A signal aborted by `newer` or by close(), and `done()` to let go of both once the generation is over. */
  #supersededBy(newer: AbortSignal): { signal: AbortSignal; done(): void } {
    // Its listeners are removed when the generation ends: the close signal, as long-lived as the Glean, gathers none.
    const either = new AbortController();
    const abort = (): void => either.abort();
    if (newer.aborted || this.#closeSignal.signal.aborted) either.abort();
    newer.addEventListener('abort', abort, { once: true });
    this.#closeSignal.signal.addEventListener('abort', abort, { once: true });
    return {
      signal: either.signal,
      done: () => {
        newer.removeEventListener('abort', abort);
        this.#closeSignal.signal.removeEventListener('abort', abort);
      },
    };
  }

  /** One spare per thread shape of the running versions after `delayMs`; none when closing or with prewarm off. */
  #refillSpares(delayMs: number): Promise<void> {
    return this.#spares.refillLater(
      delayMs,
      () => (this.#options.prewarm && !this.closed ? this.#registry.specs() : []),
      (error) => this.#out.log.write(LogLine.SPARES_FAILED, errorFields(error)),
    );
  }

  /**
   * Watches the plugin file of every id, and every file inside the root of the module graph of the
   * version serving it. A package.json or tsconfig.json above the root counts for a version's
   * identity (a reload sees it changed) but is not watched: watching the folders up to `/` would
   * watch the host's whole tree.
   */
  #watchPluginFiles(): void {
    if (this.#watcher === undefined || !this.#options.watchFiles) return;
    const realRoot = realRootOf(this.#rootURL);
    // The lockfile is read with the config: a change to it is a change of what may run.
    const files = new Set<string>(this.#lockfile === undefined ? [] : [this.#lockfile]);
    for (const id of this.#registry.ids()) {
      const serving = this.#registry.serving(id);
      if (serving === undefined) continue;
      const canary = this.#registry.get(id)?.canary;
      const graphs = [serving.binding.pluginVersion.graph];
      files.add(serving.spec.file);
      if (canary !== undefined) {
        files.add(canary.spec.file);
        if (canary.version !== undefined) graphs.push(canary.version.graph);
      }
      for (const graph of graphs)
        for (const file of graph.files()) if (isInside(file, realRoot) || isInside(file, this.#root)) files.add(file);
    }
    this.#watcher.setPluginFiles(files);
  }

  #onCrash({ version, threadId, error, failed, restarting, afterAbort = false }: VersionCrash): void {
    const canaryIds = this.#registry.canaryIdsOf(version);
    const ids = [...this.#registry.idsOf(version), ...canaryIds];
    this.#out.log.write(LogLine.WORKER_CRASHED, {
      ...errorFields(error),
      id: error.id ?? ids[0],
      ids,
      threadId,
      restarting,
      failed,
    });
    this.#out.announce('crash', { ids, version: versionInfo(version), threadId, error, failed, restarting });
    // After the crash is said: a fifth in a row rolls the canary back, and its rollback follows the crash.
    // A worker replaced after its caller aborted did not crash: the caller gave up (see Slot's liveness probe).
    if (afterAbort) return;
    for (const id of canaryIds) this.#registry.get(id)?.canary?.crashed();
  }

  #onRetire(version: PluginVersion): void {
    this.#versions.retired(version);
    this.#out.announce('retire', { version: versionInfo(version) });
  }

  #onStuck(version: PluginVersion, threadIds: readonly number[]): void {
    const { id, file, version: text } = version.spec;
    this.#out.log.write(LogLine.THREADS_STUCK, { id, version: text, file, threadIds, exitTimeoutMs: EXIT_TIMEOUT_MS });
  }

  /** Said as an `error` event, and kept as the last error of the ids the version served (status()). */
  #onDisposeFailed(version: PluginVersion, error: GleanError): void {
    const ids = new Set(this.#registry.idsOf(version));
    if (error.id !== undefined) ids.add(error.id);
    for (const id of ids) this.#registry.record(id).stats.lastError = error;
    this.#emitError(error);
  }

  #emitError(error: GleanError): void {
    if (this.#out.listens('error')) this.#out.announce('error', error);
    else this.#out.log.write(LogLine.UNHANDLED_ERROR, errorFields(error));
  }

  /** Where a call to `id` goes: its stable version, or its canary by the call's key and version. */
  #route(id: string, options: CallOptions | undefined): Binding | GleanError {
    const record = this.#registry.get(id);
    const serving = record?.serving;
    if (serving === undefined) return this.#notConfigured(id);
    const { canary } = record as NonNullable<typeof record>;
    if (canary !== undefined) return canary.route(serving.binding, options);
    const wanted = options?.version;
    if (wanted === undefined || wanted === serving.spec.version) return serving.binding;
    return new GleanError(
      ErrorCode.NOT_CONFIGURED,
      `"${id}" runs no version ${JSON.stringify(wanted)}; version running: ${JSON.stringify(serving.spec.version)}`,
      { id, file: serving.spec.file, version: serving.spec.version },
    );
  }

  #canaryOf(id: string, what: string): Canary {
    if (this.closed) throw this.closedError();
    const record = this.#registry.get(id);
    if (record?.serving === undefined) throw this.#notConfigured(id);
    const { canary } = record;
    if (canary === undefined)
      throw new GleanError(
        ErrorCode.NO_CANARY,
        `cannot ${what} the canary of "${id}": its config entry has no "canary"`,
        {
          id,
        },
      );
    return canary;
  }

  #notConfigured(id: string): GleanError {
    const known = this.#registry.ids();
    return new GleanError(
      ErrorCode.NOT_CONFIGURED,
      `"${id}" is not configured in ${this.configPath}; configured ids are: ${known.length > 0 ? known.join(', ') : '(none)'}`,
      { id },
    );
  }
}
