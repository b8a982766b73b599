/**
 * Mechanics of watching: one chokidar watch of one folder. chokidar's own `change` events are not
 * the judge of what changed: a second change to a path within 50 ms is dropped with no trailing
 * event (chokidar issue #1455), which loses the final write of a burst. Every raw fs event of the
 * folder counts instead, filtered to the entries that matter; the policy lives in watch.ts.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** What a {@link FolderWatch} reports to its owner. */
export interface FolderEvents {
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
export class FolderWatch {
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
