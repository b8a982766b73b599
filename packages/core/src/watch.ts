/**
 * Watching the config file and the plugin files: tells the runtime "something may have changed,
 * re-read now". The runtime compares content before acting, so a notification may be spurious or
 * duplicated; it must never be missing.
 *
 * Policy: which entries stand for which watched file (watch-points.ts), one folder watch per folder
 * needed (folder-watch.ts, chokidar), and coalescing their events into one notification.
 */
import path from 'node:path';
import { FolderWatch } from './folder-watch.js';
import { watchPoints } from './watch-points.js';

const DEFAULT_DEBOUNCE_MS = 5;

/** Why the watcher notified: the config file or one plugin file (its path as it was given). */
export type WatchReason = { readonly kind: 'config' | 'plugin'; readonly path: string };

/** Options of a {@link Watcher}. */
export interface WatcherOptions {
  /** Absolute path of the config file as the user gave it (may be a symlink). */
  configPath: string;
  /**
   * Called after a change with the reasons gathered: at once (on the next turn of the event loop) for
   * the first change, then at most once more per debounce window for what arrived during it.
   */
  onChange: (reasons: readonly WatchReason[]) => void;
  /** Called when the watcher itself fails (chokidar 'error'); never throws into chokidar. */
  onError: (error: Error) => void;
  /** After a notification, gather further events for this many ms into one more. Default 5. */
  debounceMs?: number;
}

/** One path watched for a reason, and the entries that stand for it (see {@link watchPoints}). */
interface Target {
  readonly reason: WatchReason;
  points: ReadonlySet<string>;
  /** Report it once every folder of its points is watched (newly watched path, or a folder newly watched for it). */
  report: boolean;
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  a.size === b.size && [...a].every((x) => b.has(x));

/**
 * Watches the config file and a set of plugin files and calls `onChange` when any may have changed:
 * content written in place or renamed over, a symlink on the way retargeted (a Kubernetes ConfigMap
 * `..data` swap), or a folder on the way removed or recreated.
 *
 * Every path is also reported once as soon as its watch is live (the config when the watcher
 * starts, a plugin file when it is added by {@link Watcher.setPluginFiles}, either again when a
 * folder is newly watched for it), so that a change racing the start of its watch is never lost.
 */
export class Watcher {
  readonly #onChange: (reasons: readonly WatchReason[]) => void;
  readonly #onError: (error: Error) => void;
  readonly #debounceMs: number;
  readonly #config: Target;
  readonly #plugins = new Map<string, Target>();
  readonly #folders = new Map<string, FolderWatch>();
  readonly #closingFolders = new Set<Promise<void>>();
  readonly #pending = new Map<string, WatchReason>();
  /** The debounce window: open from a notification until `debounceMs` later. */
  #timer: NodeJS.Timeout | undefined;
  #leading: NodeJS.Immediate | undefined;
  readonly #dirty = new Set<Target>();
  #resolving: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Starts watching `options.configPath` at once; await {@link Watcher.ready} before relying on it. */
  constructor(options: WatcherOptions) {
    const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    if (!(debounceMs >= 0 && Number.isFinite(debounceMs)))
      throw new RangeError(`debounceMs must be a finite number >= 0, got ${debounceMs}`);
    this.#onChange = options.onChange;
    this.#onError = options.onError;
    this.#debounceMs = debounceMs;
    this.#config = newTarget({ kind: 'config', path: options.configPath });
    this.#sync();
    this.#resolve([this.#config]);
  }

  /**
   * Resolves once the initial scan is done and changes from now on are seen: every watch needed
   * for the config and for the plugin files set so far is live. Resolves at once after close().
   */
  async ready(): Promise<void> {
    while (!this.#closed) {
      if (this.#resolving !== undefined) {
        await this.#resolving;
        continue;
      }
      const folders = [...this.#folders.values()];
      await Promise.all(folders.map((folder) => folder.ready));
      const settled = this.#resolving === undefined && this.#dirty.size === 0;
      if (settled && [...this.#folders.values()].every((folder) => folders.includes(folder))) return;
    }
  }

  /**
   * Replaces the set of watched plugin files (absolute paths); unchanged paths keep their watch.
   * A removed path notifies no more from this call on; an added one is reported once its watch is
   * live. Does nothing after close().
   */
  setPluginFiles(files: Iterable<string>): void {
    if (this.#closed) return;
    const next = new Set(files);
    for (const file of this.#plugins.keys()) {
      if (next.has(file)) continue;
      this.#plugins.delete(file);
      this.#pending.delete(reasonKey({ kind: 'plugin', path: file })); // gathered before this call, not yet delivered
    }
    const added: Target[] = [];
    for (const file of next) {
      if (this.#plugins.has(file)) continue;
      const target = newTarget({ kind: 'plugin', path: file });
      this.#plugins.set(file, target);
      added.push(target);
    }
    this.#sync();
    this.#resolve(added);
  }

  /**
   * Stops every watch and pending timer; no notification follows once called. Resolves once every
   * fs watch handle is released (chokidar's own throttle timers, up to 50 ms, may outlive it).
   * Idempotent: returns the same promise every time.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearImmediate(this.#leading);
    this.#leading = undefined;
    this.#pending.clear();
    this.#dirty.clear();
    const folders = [...this.#folders.values()];
    this.#folders.clear();
    await Promise.all([...folders.map((folder) => folder.close()), ...this.#closingFolders]);
    // libuv releases a closed fs watch handle in the close phase, after this turn's check phase: wait two turns.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  }

  #targets(): Target[] {
    return [this.#config, ...this.#plugins.values()];
  }

  #isCurrent(target: Target): boolean {
    return target === this.#config || this.#plugins.get(target.reason.path) === target;
  }

  /** Resolves the points of `targets` again in the background; the folder watches follow. */
  #resolve(targets: Iterable<Target>): void {
    for (const target of targets) this.#dirty.add(target);
    if (this.#resolving !== undefined || this.#dirty.size === 0 || this.#closed) return;
    // Started a tick later so that #resolving is set before the loop can end and clear it.
    this.#resolving = Promise.resolve().then(() => this.#resolveDirty());
  }

  async #resolveDirty(): Promise<void> {
    try {
      while (this.#dirty.size > 0 && !this.#closed) {
        const batch = [...this.#dirty];
        this.#dirty.clear();
        const found = await Promise.all(batch.map((target) => watchPoints(target.reason.path)));
        if (this.#closed) return;
        batch.forEach((target, i) => {
          const points = found[i];
          if (points !== undefined && !sameSet(target.points, points)) target.points = points;
        });
        this.#sync();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#resolving = undefined;
    }
  }

  /** Makes the folder watches match the targets' points; reports the targets of folders newly watched once they are live. */
  #sync(): void {
    const wanted = new Map<string, Set<string>>();
    for (const target of this.#targets()) {
      for (const point of target.points) {
        const folder = path.dirname(point);
        const names = wanted.get(folder) ?? new Set<string>();
        names.add(path.basename(point));
        wanted.set(folder, names);
      }
    }
    for (const [folder, watch] of this.#folders) {
      if (!wanted.has(folder)) this.#dropFolder(folder, watch);
    }
    const fresh = new Set<string>();
    for (const [folder, names] of wanted) {
      let watch = this.#folders.get(folder);
      if (watch === undefined) {
        watch = this.#openFolder(folder);
        fresh.add(folder);
      }
      watch.names.clear();
      for (const name of names) watch.names.add(name);
    }
    for (const target of this.#targets()) {
      if (target.report || [...target.points].some((p) => fresh.has(path.dirname(p)))) this.#reportWhenLive(target);
    }
  }

  #openFolder(folder: string): FolderWatch {
    const watch: FolderWatch = new FolderWatch(folder, {
      entry: (name) => this.#onEntry(watch, folder, name),
      gone: () => this.#onGone(watch, folder),
      error: (error) => this.#fail(error),
    });
    this.#folders.set(folder, watch);
    // Once live, resolve its targets again: whatever moved while it started is then seen.
    void watch.ready.then(() => {
      if (this.#folders.get(folder) === watch) this.#resolve(this.#targetsIn(folder, undefined));
    });
    return watch;
  }

  #dropFolder(folder: string, watch: FolderWatch): void {
    this.#folders.delete(folder);
    const closing = watch.close().catch(() => {});
    this.#closingFolders.add(closing);
    void closing.then(() => this.#closingFolders.delete(closing));
  }

  #targetsIn(folder: string, name: string | undefined): Target[] {
    return this.#targets().filter((target) =>
      [...target.points].some((p) => path.dirname(p) === folder && (name === undefined || path.basename(p) === name)),
    );
  }

  #onEntry(watch: FolderWatch, folder: string, name: string | undefined): void {
    if (this.#closed || this.#folders.get(folder) !== watch) return;
    const hit = this.#targetsIn(folder, name);
    for (const target of hit) this.#queue(target.reason);
    this.#resolve(hit);
  }

  #onGone(watch: FolderWatch, folder: string): void {
    if (this.#closed || this.#folders.get(folder) !== watch) return;
    const hit = this.#targetsIn(folder, undefined);
    this.#dropFolder(folder, watch);
    for (const target of hit) this.#queue(target.reason);
    this.#resolve(hit);
  }

  #reportWhenLive(target: Target): void {
    target.report = false;
    const folders = [...target.points].map((p) => this.#folders.get(path.dirname(p))?.ready);
    void Promise.all(folders).then(() => {
      if (this.#isCurrent(target)) this.#queue(target.reason);
    });
  }

  /**
   * Leading edge: the first event notifies on the next turn (events of the same moment join it) and
   * opens a window of `debounceMs`. What arrives in the window is notified once when it closes, and
   * opens the next window; a window with nothing in it ends, and the next event notifies at once.
   */
  #queue(reason: WatchReason): void {
    if (this.#closed) return;
    this.#pending.set(reasonKey(reason), reason);
    if (this.#timer !== undefined || this.#leading !== undefined) return;
    this.#leading = setImmediate(() => {
      this.#leading = undefined;
      this.#notify();
    });
  }

  /** Passes on what is pending, and opens a window if there was something. */
  #notify(): void {
    this.#timer = undefined;
    if (this.#closed || this.#pending.size === 0) return;
    const reasons = [...this.#pending.values()];
    this.#pending.clear();
    this.#timer = setTimeout(() => this.#notify(), this.#debounceMs);
    try {
      this.#onChange(reasons);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Reports an error on a stack of its own: a throwing onError never unwinds into chokidar. */
  #fail(error: unknown): void {
    if (this.#closed) return;
    const reported = error instanceof Error ? error : new Error(String(error));
    queueMicrotask(() => {
      if (!this.#closed) this.#onError(reported);
    });
  }
}

const reasonKey = (reason: WatchReason): string => `${reason.kind}\0${reason.path}`;

function newTarget(reason: WatchReason): Target {
  return { reason, points: new Set([path.resolve(reason.path)]), report: true };
}
