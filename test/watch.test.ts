import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Watcher, type WatchReason, type WatcherOptions } from '../packages/core/src/watch.js';
import { tempDir } from './helpers/index.js';

/** One onChange call, with what the watched files held when it arrived (what the runtime would read). */
interface Notification {
  readonly reasons: readonly WatchReason[];
  readonly at: number;
  readonly texts: ReadonlyMap<string, string | undefined>;
}

/** Records the notifications of one watcher and lets a test wait for the next one that matches. */
class Recorder {
  readonly seen: Notification[] = [];
  readonly errors: Error[] = [];
  readonly #read: readonly string[];
  #waiters: { match: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];

  constructor(read: readonly string[]) {
    this.#read = read;
  }

  readonly onChange = (reasons: readonly WatchReason[]): void => {
    const texts = new Map(this.#read.map((file) => [file, readOrUndefined(file)] as const));
    const notification = { reasons, at: performance.now(), texts };
    this.seen.push(notification);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.match(notification)) continue;
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(notification);
    }
  };

  readonly onError = (error: Error): void => {
    this.errors.push(error);
  };

  /** The first notification from now on that satisfies `match`; rejects after `timeoutMs`. */
  next(match: (n: Notification) => boolean = () => true, timeoutMs = 5_000): Promise<Notification> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `no matching notification within ${timeoutMs} ms; seen: ${JSON.stringify(this.seen.map((n) => n.reasons))}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (n: Notification) => {
          clearTimeout(timer);
          resolve(n);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /**
   * Resolves once no notification has come for `quietMs`: lets the one-off reports of watches going
   * live drain, so that what a step waits for next is caused by that step.
   */
  async settle(quietMs = 100): Promise<void> {
    let count = -1;
    while (count !== this.seen.length) {
      count = this.seen.length;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const has = (kind: WatchReason['kind'], file: string, text?: string) => (n: Notification) =>
  n.reasons.some((r) => r.kind === kind && r.path === file) && (text === undefined || n.texts.get(file) === text);

let dir: string;
let cfg: string;
const watchers: Watcher[] = [];

beforeEach(async () => {
  // Its real path: the OS temp folder may itself be a link. Removed after the test, after the watchers close.
  dir = await fs.realpath((await tempDir()).dir);
  cfg = path.join(dir, 'plugin.json');
});

afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.close()));
});

/** A watcher on `cfg`, live, its start-up report seen and drained. */
async function start(
  read: readonly string[] = [cfg],
  options: Partial<WatcherOptions> = {},
): Promise<{ watcher: Watcher; rec: Recorder }> {
  const rec = new Recorder(read);
  const started = rec.next(has('config', cfg));
  const watcher = new Watcher({ configPath: cfg, onChange: rec.onChange, onError: rec.onError, ...options });
  watchers.push(watcher);
  await watcher.ready();
  await started;
  await rec.settle();
  return { watcher, rec };
}

/** Writes `text` to a temp file next to `file` and renames it over `file`, as editors save. */
async function renameOver(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.hrtime.bigint()}.tmp`);
  await fs.writeFile(temp, text);
  await fs.rename(temp, file);
}

describe('config file', () => {
  it('is reported once when its watch goes live, so a change racing start-up is not lost', async () => {
    await fs.writeFile(cfg, '{"v":0}');
    const rec = new Recorder([cfg]);
    const first = rec.next();
    const watcher = new Watcher({ configPath: cfg, onChange: rec.onChange, onError: rec.onError });
    watchers.push(watcher);
    await watcher.ready();
    expect((await first).reasons).toEqual([{ kind: 'config', path: cfg }]);
  });

  it('notifies on each in-place write, 3 times in a row', async () => {
    await fs.writeFile(cfg, '{"v":0}');
    const { rec } = await start();
    for (let i = 1; i <= 3; i++) {
      const text = `{"v":${i}}`;
      const seen = rec.next(has('config', cfg, text));
      await fs.writeFile(cfg, text);
      await seen;
      await rec.settle();
    }
    expect(rec.errors).toEqual([]);
  });

  it('notifies on each rename over it (editor save), 3 times in a row', async () => {
    await fs.writeFile(cfg, '{"v":0}');
    const { rec } = await start();
    for (let i = 1; i <= 3; i++) {
      const text = `{"v":${i}}`;
      const seen = rec.next(has('config', cfg, text));
      await renameOver(cfg, text);
      await seen;
      await rec.settle();
    }
    expect(rec.errors).toEqual([]);
  });

  it('notifies on each of 3 consecutive Kubernetes ConfigMap swaps of ..data', async () => {
    // dir/plugin.json -> ..data/plugin.json, dir/..data -> ..<timestamp>, as the kubelet lays a ConfigMap out.
    const stamp = (i: number) => `..2026_11_28_10_00_0${i}.${1000 + i}`;
    await fs.mkdir(path.join(dir, stamp(0)));
    await fs.writeFile(path.join(dir, stamp(0), 'plugin.json'), '{"v":0}');
    await fs.symlink(stamp(0), path.join(dir, '..data'));
    await fs.symlink('..data/plugin.json', cfg);
    const { rec } = await start();
    for (let i = 1; i <= 3; i++) {
      const text = `{"v":${i}}`;
      const seen = rec.next(has('config', cfg, text));
      // The kubelet's atomic writer: new folder, ..data_tmp -> it, rename over ..data, remove the old folder.
      await fs.mkdir(path.join(dir, stamp(i)));
      await fs.writeFile(path.join(dir, stamp(i), 'plugin.json'), text);
      await fs.symlink(stamp(i), path.join(dir, '..data_tmp'));
      await fs.rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      // The swap itself must notify: removing the old folder (which a followed watch would notice) comes after.
      await seen;
      await fs.rm(path.join(dir, stamp(i - 1)), { recursive: true });
      await rec.settle();
    }
    expect(rec.errors).toEqual([]);
  });

  it('notifies when the file a config symlink points to in another folder is written in place', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    await fs.mkdir(elsewhere);
    const real = path.join(elsewhere, 'real.json');
    await fs.writeFile(real, '{"v":0}');
    await fs.symlink(real, cfg);
    const { rec } = await start();
    for (let i = 1; i <= 2; i++) {
      const text = `{"v":${i}}`;
      const seen = rec.next(has('config', cfg, text));
      await fs.writeFile(real, text);
      await seen;
      await rec.settle();
    }
  });

  it('after a burst of 20 quick writes, the last notification comes after the last write and sees its content', async () => {
    // Writes 1.5 ms apart span ~30 ms: more than the 10 ms debounce, less than chokidar's 50 ms change
    // throttle, whose dropped events (chokidar #1455) would leave the last write unreported.
    await fs.writeFile(cfg, 'v0');
    const { rec } = await start();
    const before = rec.seen.length;
    const final = rec.next(has('config', cfg, 'v20'));
    let lastWriteStarted = 0;
    const t0 = performance.now();
    for (let i = 1; i <= 20; i++) {
      while (performance.now() < t0 + (i - 1) * 1.5) await new Promise((resolve) => setImmediate(resolve));
      lastWriteStarted = performance.now();
      await fs.writeFile(cfg, `v${i}`);
    }
    await final;
    await rec.settle();
    const burst = rec.seen.slice(before);
    expect(burst.length).toBeGreaterThanOrEqual(1);
    const last = burst.at(-1);
    expect(last?.at).toBeGreaterThan(lastWriteStarted);
    expect(last?.texts.get(cfg)).toBe('v20');
  });
});

describe('plugin files', () => {
  let plugins: string;

  beforeEach(async () => {
    plugins = path.join(dir, 'plugins');
    await fs.mkdir(plugins);
    await fs.writeFile(cfg, '{}');
  });

  it("notifies with kind 'plugin' and the file's path on an in-place write and on a rename over it", async () => {
    const file = path.join(plugins, 'index.js');
    await fs.writeFile(file, 'export const v = 0;');
    const { watcher, rec } = await start([file]);
    const live = rec.next(has('plugin', file));
    watcher.setPluginFiles([file]);
    await watcher.ready();
    await live; // a newly watched file is reported once its watch is live
    await rec.settle();

    const written = rec.next(has('plugin', file, 'export const v = 1;'));
    await fs.writeFile(file, 'export const v = 1;');
    expect((await written).reasons).toEqual([{ kind: 'plugin', path: file }]);
    await rec.settle();

    for (let i = 2; i <= 3; i++) {
      const renamed = rec.next(has('plugin', file, `export const v = ${i};`));
      await renameOver(file, `export const v = ${i};`);
      await renamed;
      await rec.settle();
    }
  });

  it('no longer notifies for a file removed from the set, in a shared folder or in a folder of its own', async () => {
    const kept = path.join(plugins, 'kept.js');
    const sibling = path.join(plugins, 'sibling.js');
    const alone = path.join(dir, 'other', 'alone.js');
    await fs.mkdir(path.dirname(alone));
    await Promise.all([kept, sibling, alone].map((file) => fs.writeFile(file, '0')));
    const { watcher, rec } = await start([kept, sibling, alone]);
    watcher.setPluginFiles([kept, sibling, alone]);
    await watcher.ready();
    await rec.settle();

    const stillWatched = rec.next(has('plugin', alone, '1'));
    await fs.writeFile(alone, '1');
    await stillWatched;
    await rec.settle();

    watcher.setPluginFiles([kept]);
    const from = rec.seen.length;
    // Events arrive in order: had the removed files still counted, their reasons would come no later than kept's.
    await fs.writeFile(sibling, '2');
    await fs.writeFile(alone, '2');
    const keptSeen = rec.next(has('plugin', kept, '2'));
    await fs.writeFile(kept, '2');
    await keptSeen;
    const reasons = rec.seen.slice(from).flatMap((n) => n.reasons);
    expect(reasons).not.toContainEqual({ kind: 'plugin', path: sibling });
    expect(reasons).not.toContainEqual({ kind: 'plugin', path: alone });
  });

  it('keeps watching a file whose folder is removed and created again (a clean rebuild)', async () => {
    const dist = path.join(plugins, 'dist');
    const file = path.join(dist, 'index.js');
    await fs.mkdir(dist);
    await fs.writeFile(file, 'v0');
    const { watcher, rec } = await start([file]);
    watcher.setPluginFiles([file]);
    await watcher.ready();
    await rec.settle();

    const removed = rec.next(has('plugin', file));
    await fs.rm(dist, { recursive: true });
    expect((await removed).texts.get(file)).toBeUndefined();
    await rec.settle();

    const rebuilt = rec.next(has('plugin', file, 'v1'));
    await fs.mkdir(dist);
    await fs.writeFile(file, 'v1');
    await rebuilt;
    await rec.settle();

    const rewritten = rec.next(has('plugin', file, 'v2'));
    await fs.writeFile(file, 'v2');
    await rewritten;
    await rec.settle();

    // Removed and created again back to back: the old folder's watch is dead although the path exists.
    const quick = rec.next(has('plugin', file, 'v3'));
    await fs.rm(dist, { recursive: true });
    await fs.mkdir(dist);
    await fs.writeFile(file, 'v3');
    await quick;
    await rec.settle();
    const after = rec.next(has('plugin', file, 'v4'));
    await fs.writeFile(file, 'v4');
    await after;
  });
});

describe('lifecycle', () => {
  it('close() is idempotent (same promise) and no notification arrives after it, not even one pending', async () => {
    await fs.writeFile(cfg, 'v0');
    // The closing watcher passes v1 on and opens a 1 s window; v2 lands in that window. A second
    // watcher with a short window witnesses v2: once it has notified, the closing watcher holds a
    // notification in its window (checked: it has not passed v2 on).
    const { rec: witness } = await start();
    const { watcher, rec } = await start([cfg], { debounceMs: 1_000 });
    const first = rec.next(has('config', cfg, 'v1'));
    await fs.writeFile(cfg, 'v1');
    await first;
    const seen = witness.next(has('config', cfg, 'v2'));
    await fs.writeFile(cfg, 'v2');
    await seen;
    expect(rec.seen.some(has('config', cfg, 'v2'))).toBe(false);
    const closedAt = rec.seen.length;
    const closing = watcher.close();
    expect(watcher.close()).toBe(closing);
    await closing;
    // Only the passing of time shows that a timer did not fire: wait out the debounce window, and then some.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(rec.seen.slice(closedAt)).toEqual([]);
    watcher.setPluginFiles([path.join(dir, 'late.js')]); // ignored after close
    await watcher.ready(); // resolves after close
  });

  it('close() leaves no fs watch open', async () => {
    // fs.watch handles, or fs.watchFile ones when chokidar polls (CHOKIDAR_USEPOLLING=1).
    const fsWatches = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'StatWatcher').length;
    const baseline = fsWatches();
    await fs.writeFile(cfg, '{}');
    await fs.mkdir(path.join(dir, 'plugins'));
    await fs.writeFile(path.join(dir, 'plugins', 'a.js'), '');
    const { watcher } = await start();
    watcher.setPluginFiles([path.join(dir, 'plugins', 'a.js')]);
    await watcher.ready();
    expect(fsWatches()).toBeGreaterThan(baseline);
    await watcher.close();
    expect(fsWatches()).toBe(baseline);
  });

  it('reports an error thrown by onChange through onError', async () => {
    await fs.writeFile(cfg, '{}');
    const errors: Error[] = [];
    const failed = new Promise<void>((resolve) => {
      const watcher = new Watcher({
        configPath: cfg,
        onChange: () => {
          throw new Error('boom');
        },
        onError: (error) => {
          errors.push(error);
          resolve();
        },
      });
      watchers.push(watcher);
    });
    await failed; // the start-up report makes onChange run once
    expect(errors.map((e) => e.message)).toEqual(['boom']);
  });
});
