/**
 * Watching the config file and the plugin files: tells the runtime "something may have changed,
 * re-read now". The runtime compares content before acting, so a notification may be spurious or
 * duplicated; it must never be missing.
 *
 * chokidar 5 does the mechanics (one watch per folder), but its own `change` events are not used as
 * the judge of what changed: a second change to a path within 50 ms is dropped with no trailing
 * event (chokidar issue #1455), which loses the final write of a burst. Every raw fs event of a
 * watched folder counts instead, filtered to the entries that matter and coalesced here.
 */
import type { Stats } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** Why the watcher notified: the config file or one plugin file (its path as it was given). */
export type WatchReason = { readonly kind: 'config' | 'plugin'; readonly path: string };

/** Options of a {@link Watcher}. */
export interface WatcherOptions {
  /** Absolute path of the config file as the user gave it (may be a symlink). */
  configPath: string;
  /** Called after a change, at most once per debounce window, with the reasons gathered in it. */
  onChange: (reasons: readonly WatchReason[]) => void;
  /** Called when the watcher itself fails (chokidar 'error'); never throws into chokidar. */
  onError: (error: Error) => void;
  /** Coalesce events within this many ms. Default 10. */
  debounceMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 10;
/** Symlinks followed while resolving one path before giving up, as Linux does (ELOOP). */
const MAX_SYMLINK_HOPS = 40;

/** What a {@link FolderWatch} reports to its owner. */
interface FolderEvents {
  /** The entry `name` of the folder may have changed; `undefined`: any of them may have. */
  entry(name: string | undefined): void;
  /** The folder was removed or replaced (or was missing): this watch sees nothing more. */
  gone(): void;
  error(error: Error): void;
}

/**
 * Mechanics: one chokidar watch of one folder (depth 0, symlinks not followed), reporting which of
 * the entries named in `names` may have changed. Entries are seen through the folder's own fs
 * watch, so an entry replaced by a rename (editor save, ConfigMap `..data` swap) keeps being seen.
 */
class FolderWatch {
  /** Names of the entries that matter; read live by chokidar's `ignored`, so sibling files get no watch of their own. */
  readonly names = new Set<string>();
  /** Resolves once chokidar's initial scan is done, or the watch closed or could not start. */
  readonly ready: Promise<void>;
  readonly #folder: string;
  readonly #events: FolderEvents;
  #markReady: () => void = () => {};
  #fsw: FSWatcher | undefined;
  #closing: Promise<void> | undefined;
  #identity: string | undefined;
  #gone = false;
  #checking = false;
  #recheck = false;

  constructor(folder: string, events: FolderEvents) {
    this.#folder = folder;
    this.#events = events;
    this.ready = new Promise((resolve) => (this.#markReady = resolve));
    void this.#start();
  }

  async #start(): Promise<void> {
    // Identity before the watch: a folder replaced in between then shows as a mismatch, never as a silent dead watch.
    this.#identity = await identityOf(this.#folder);
    if (this.#closing !== undefined) return;
    if (this.#identity === undefined) {
      this.#markReady();
      this.#reportGone();
      return;
    }
    const folder = this.#folder;
    const fsw = watch(folder, {
      ignoreInitial: true,
      followSymlinks: false, // a swapped symlink is then a change of the link's own entry
      atomic: false, // no 100 ms hold on unlink events, and no names hidden as editor temp files
      depth: 0,
      ignored: (p: string) => {
        const abs = path.resolve(p);
        return abs !== folder && !(path.dirname(abs) === folder && this.names.has(path.basename(abs)));
      },
    });
    this.#fsw = fsw;
    fsw.on('raw', (event, evPath, details) => this.#onRaw(event, evPath, details));
    fsw.on('all', (_event, p) => this.#onPath(p, true));
    fsw.on('error', (error) => this.#events.error(error instanceof Error ? error : new Error(String(error))));
    fsw.once('ready', () => {
      this.#markReady();
      void this.#checkAlive();
    });
  }

  /** Stops the watch. Idempotent: returns the same promise every time. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#markReady();
    const fsw = this.#fsw;
    this.#closing = fsw === undefined ? Promise.resolve() : fsw.close();
    // close() removed every listener; an 'error' emitted late by chokidar must not become an uncaught exception.
    fsw?.on('error', () => {});
    return this.#closing;
  }

  #onRaw(event: string, evPath: string, details: unknown): void {
    if (this.#closing !== undefined) return;
    const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (typeof watched !== 'string') {
      // Polling (CHOKIDAR_USEPOLLING): evPath is the polled path itself; the folder's own poll means its listing changed.
      this.#onPath(evPath, false);
    } else if (path.resolve(watched) === this.#folder) {
      // The folder's own fs watch: evPath names the entry, or the folder itself when it was deleted or moved.
      this.#events.entry(evPath === '' ? undefined : evPath);
      if (event === 'rename' && evPath === path.basename(this.#folder)) this.#reportGone();
      else if (event === 'rename' || evPath === '') void this.#checkAlive();
    } else {
      // chokidar's watch of one entry.
      this.#events.entry(path.basename(watched));
    }
  }

  /** An event on path `p`; `unlinkedIfFolder`: an event on the folder itself means it was unlinked (chokidar 'all'). */
  #onPath(p: string, unlinkedIfFolder: boolean): void {
    if (this.#closing !== undefined) return;
    const abs = path.resolve(p);
    if (abs === this.#folder) {
      this.#events.entry(undefined);
      // chokidar reports the folder itself only as unlinked, and has then closed its watch of it.
      if (unlinkedIfFolder) this.#reportGone();
      else void this.#checkAlive();
    } else if (path.dirname(abs) === this.#folder) {
      this.#events.entry(path.basename(abs));
    }
  }

  #reportGone(): void {
    if (this.#gone || this.#closing !== undefined) return;
    this.#gone = true;
    this.#events.gone();
  }

  /** Reports `gone` if the folder no longer is the one watched; events during a check trigger one more. */
  async #checkAlive(): Promise<void> {
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#recheck = false;
        const identity = await identityOf(this.#folder);
        if (this.#closing !== undefined) return;
        if (identity !== this.#identity) {
          this.#reportGone();
          return;
        }
      } while (this.#recheck);
    } finally {
      this.#checking = false;
    }
  }
}

/**
 * `dev:ino:birthtime` of the folder at `folder` (following symlinks, as fs watches do), or undefined if
 * it is not a folder. The birth time matters: ext4 hands a removed folder's inode number to the next
 * folder made (`rm -rf dist && mkdir dist` keeps the number).
 */
async function identityOf(folder: string): Promise<string | undefined> {
  try {
    const stats = await stat(folder, { bigint: true });
    return stats.isDirectory() ? `${stats.dev}:${stats.ino}:${stats.birthtimeNs}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The entries whose change can change what reading `file` gives: every symlink met while resolving
 * it (the link itself, in the folder that holds it) and the entry it ends at; or, where resolution
 * stops, the missing entry (or the non-folder met where a folder was needed). The folder holding
 * each returned entry existed when looked at. For a Kubernetes ConfigMap this yields
 * `dir/plugin.json`, `dir/..data` and `dir/..2026_…/plugin.json`.
 */
async function watchPoints(file: string): Promise<Set<string>> {
  const points = new Set<string>();
  const split = (p: string): string[] => p.split(path.sep === '\\' ? /[\\/]/ : '/').filter((part) => part !== '');
  const start = path.resolve(file);
  let current = path.parse(start).root;
  let todo = split(start.slice(current.length));
  let hops = 0;
  for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
    if (name === '.') continue;
    if (name === '..') {
      current = path.dirname(current); // current is a real path here, so this is the physical parent
      continue;
    }
    const entry = path.join(current, name);
    let stats: Stats;
    try {
      stats = await lstat(entry);
    } catch {
      points.add(entry);
      return points;
    }
    if (stats.isSymbolicLink()) {
      points.add(entry);
      if (++hops > MAX_SYMLINK_HOPS) return points;
      let target: string;
      try {
        target = await readlink(entry);
      } catch {
        return points;
      }
      if (path.isAbsolute(target)) current = path.parse(target).root;
      todo = [...split(path.isAbsolute(target) ? target.slice(current.length) : target), ...todo];
      continue;
    }
    if (todo.length > 0 && !stats.isDirectory()) {
      points.add(entry);
      return points;
    }
    current = entry;
  }
  points.add(current);
  return points;
}

/** One path watched for a reason, and the entries that stand for it (see {@link watchPoints}). */
interface Target {
  readonly reason: WatchReason;
  points: ReadonlySet<string>;
  /** Report it once every folder of its points is watched (newly watched path, or a folder newly watched for it). */
  report: boolean;
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));

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
  #timer: NodeJS.Timeout | undefined;
  readonly #dirty = new Set<Target>();
  #resolving: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Starts watching `options.configPath` at once; await {@link Watcher.ready} before relying on it. */
  constructor(options: WatcherOptions) {
    const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    if (!(debounceMs >= 0 && Number.isFinite(debounceMs))) throw new RangeError(`debounceMs must be a finite number >= 0, got ${debounceMs}`);
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

  #queue(reason: WatchReason): void {
    if (this.#closed) return;
    this.#pending.set(reasonKey(reason), reason);
    this.#timer ??= setTimeout(() => this.#flush(), this.#debounceMs);
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#closed || this.#pending.size === 0) return;
    const reasons = [...this.#pending.values()];
    this.#pending.clear();
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
