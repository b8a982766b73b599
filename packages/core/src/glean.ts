import { EventEmitter } from 'node:events';
import { publishEvent } from './channels.js';
import { GleanEngine } from './engine.js';
import { registerEngine } from './engines.js';
import type { ActivateEvent, GleanEvents } from './events.js';
import { HandleState, createHandle, handleState, type Handle } from './handle.js';
import { Log, LogLine } from './log.js';
import type { Logger } from './logger.js';
import type { FindQuery, PluginStatus } from './registry.js';

/** Options of {@link Glean}. */
export interface GleanOptions {
  /** Reload when the config file changes on disk (in place, renamed over, or a Kubernetes ConfigMap swap). Default `true`. */
  watch?: boolean;
  /**
   * With `watch`, also reload when a plugin's module changes: its plugin file, any module it loaded
   * from inside the root, or a package.json or tsconfig.json inside the root that decides how one
   * loads. Default `true`.
   */
  watchFiles?: boolean;
  /**
   * Where crashes, and `error` events nobody listens to, are written (README, "Logs"). Default `console`;
   * `false` for silence. A logger with `child()` (pino) is logged through `child({ component: 'glean' })`
   * with structured fields: `warn({ id, version, file, code, err }, message)`.
   */
  logger?: Logger | false;
  /**
   * A change on disk is applied at once; changes in the next this many milliseconds are gathered and
   * applied together when they are up. Default 5.
   */
  debounceMs?: number;
  /**
   * Keep one set of worker threads started ahead of time for each distinct `threads`/`resourceLimits`/`env`
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
  /**
   * Refuse every plugin-owned module with nothing to check it against (`GLEAN_INTEGRITY_REQUIRED`): a
   * plugin file needs its `integrity` in the config or an entry in the lockfile, any other module an
   * entry in the lockfile. Default `false`.
   */
  requireIntegrity?: boolean;
  /**
   * The lockfile `npx glean lock` writes: the integrity of every plugin-owned module. When it exists,
   * every module a plugin loads must be listed in it with matching bytes (a plugin file with an
   * `integrity` of its own in the config is checked against that instead), or it is refused
   * (`GLEAN_INTEGRITY_MISMATCH`, `GLEAN_INTEGRITY_REQUIRED`); it is read again at every reload.
   * `false`: use none. Default: `glean.lock.json` in the config's folder, when it exists.
   */
  lockfile?: string | false;
}

/**
 * Loads the plugin symbols named in a glean config (`[{ id, file, name, version }]`) and keeps
 * handles to them current while the config and the plugin files change. Every plugin version runs
 * in worker threads of its own; see docs/architecture.md.
 */
export class Glean extends EventEmitter<GleanEvents> {
  readonly #engine: GleanEngine;

  /**
   * @param configPath the config file, relative to the working folder or absolute; plugin paths in it are relative to its folder.
   * @param options see {@link GleanOptions}.
   */
  constructor(configPath: string, options: GleanOptions = {}) {
    super();
    const log = new Log(options.logger);
    this.#engine = new GleanEngine(
      configPath,
      {
        watch: options.watch ?? true,
        watchFiles: options.watchFiles ?? true,
        debounceMs: options.debounceMs ?? 5,
        prewarm: options.prewarm ?? true,
        requireIntegrity: options.requireIntegrity ?? false,
        root: options.root,
        lockfile: options.lockfile,
      },
      {
        log,
        announce: (event, ...args) => this.#announce(log, event, ...args),
        listens: (event) => this.listenerCount(event) > 0,
      },
    );
    registerEngine(this, this.#engine);
  }

  /** The config file, absolute. */
  get configPath(): string {
    return this.#engine.configPath;
  }

  /**
   * The config as last applied: the SHA-256 (hex) of the config file's bytes that the latest
   * successful load or reload read, to compare with `sha256sum plugin.json` or across replicas.
   * `undefined` before the first load; a change that fails to load leaves it as it was.
   */
  get generation(): string | undefined {
    return this.#engine.generation;
  }

  /**
   * Reads and validates the config, starts every plugin version and, with `watch`, starts watching.
   * Rejects with `GLEAN_CONFIG_INVALID`, `GLEAN_CONFIG_UNREADABLE`, `GLEAN_LOAD_FAILED` or
   * `GLEAN_SYMBOL_NOT_FOUND` and leaves nothing running. Calling it again returns the same promise.
   */
  loadConfig(): Promise<void> {
    return this.#engine.loadConfig();
  }

  /**
   * Re-reads the config and the plugin files now, as a change on disk would, and applies what
   * changed. Resolves once applied; rejects with the coded error of a failed reload (also emitted
   * as `error`), in which case nothing changed.
   */
  reloadConfig(): Promise<void> {
    return this.#engine.reloadConfig();
  }

  /** A live handle: every call goes to the id's current version. Rejects `GLEAN_NOT_CONFIGURED` for an unknown id. */
  async reloadAndWatch<T = unknown>(id: string): Promise<Handle<T>> {
    const binding = await this.#engine.bindingFor(id);
    return createHandle(new HandleState(id, binding.description.kind, this.#engine.owner, undefined)) as Handle<T>;
  }

  /** A handle pinned to the id's version current now; it keeps that version's workers alive until released or watched. */
  async reload<T = unknown>(id: string): Promise<Handle<T>> {
    const binding = await this.#engine.bindingFor(id);
    return createHandle(new HandleState(id, binding.description.kind, this.#engine.owner, binding)) as Handle<T>;
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

  /**
   * Rolls the canary of `id` back now, as a failed analysis would (reason `manual`): it takes no more
   * calls, its calls in flight finish, its workers retire, and a `rollback` event says so. It stays
   * rolled back until the config names another canary version. Resolves once its workers are gone
   * (at once if something else still holds its version). Throws `GLEAN_NO_CANARY` for an id without a
   * canary running, `GLEAN_NOT_CONFIGURED` for an unknown id.
   */
  async rollback(id: string): Promise<void> {
    await this.#engine.rollback(id);
  }

  /**
   * Holds the stepped canary of `id` at its step (`held`, default `true`): it takes its share of calls
   * and its analyses go on (and can still roll it back), but it moves up no step until released with
   * `hold(id, false)`. Throws `GLEAN_NO_CANARY` for an id without a canary running, `GLEAN_NOT_CONFIGURED`
   * for an unknown id. A restart, or a config edit of the canary's rollout, starts it unheld.
   */
  hold(id: string, held = true): void {
    this.#engine.hold(id, held);
  }

  /** Ids whose current export matches `query` (glean's FindAllPlugins), in the order they were first configured. */
  findAll(query: FindQuery = {}): string[] {
    return this.#engine.findAll(query);
  }

  /** Per configured id: its file, version, state, threads, calls in flight, counters and last error. */
  status(): Record<string, PluginStatus> {
    return this.#engine.status();
  }

  /**
   * The last switch made for a config's `activateAt` (the payload of its `activate` event: the time,
   * when it switched, how late), or `undefined` when none has been. The first load waits for no
   * `activateAt` and sets none.
   */
  get activation(): ActivateEvent | undefined {
    return this.#engine.activation;
  }

  /**
   * Stops watching, lets calls in flight finish (each version up to its `drainTimeoutMs`), ends the
   * child processes plugins started (SIGTERM, SIGKILL after `CHILD_GRACE_MS`) and waits for them to
   * be reaped, then terminates every worker. A reload under way is not applied: its new workers are stopped at once,
   * even mid-import, with no `error` event; a waiting `reloadConfig()` rejects `GLEAN_CLOSED`.
   * Idempotent: returns the same promise. Afterwards every method and handle rejects `GLEAN_CLOSED`.
   */
  close(): Promise<void> {
    return this.#engine.close();
  }

  #stateOf(handle: unknown): HandleState {
    const state = handleState(handle);
    if (state === undefined || state.owner !== this.#engine.owner) {
      throw new TypeError('expected a handle returned by this Glean (reload or reloadAndWatch)');
    }
    return state;
  }

  /**
   * Publishes `event` on its diagnostics channel, then calls every listener of `event`, each apart: one that throws, or returns a promise that rejects,
   * is reported through the logger and changes nothing, not the outcome of what emitted, nor the
   * listeners after it.
   */
  #announce<K extends keyof GleanEvents>(log: Log, event: K, ...args: GleanEvents[K]): void {
    // Its diagnostics channel first (glean.reload, glean.crash…; channels.ts), whatever the listeners do.
    publishEvent(this, event, args);
    const failed = (error: unknown): void => log.write(LogLine.LISTENER_THREW, { event, err: error });
    for (const listener of this.rawListeners(event)) {
      try {
        const returned: unknown = Reflect.apply(listener, this, args);
        if (returned instanceof Promise) returned.catch(failed);
      } catch (error) {
        failed(error);
      }
    }
  }
}
