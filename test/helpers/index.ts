/**
 * Test helpers: temp folders with real files, waiting on events with timeouts, and the OS thread
 * count of this process. Every folder a test makes is removed after it.
 */
import { mkdtemp, rename, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { afterEach } from 'vitest';

export interface TempDir {
  readonly dir: string;
  /** Absolute path of `relative` inside the folder. */
  path(relative: string): string;
  /** Writes `content` (JSON for non-strings) to `relative`, making folders; returns the absolute path. */
  write(relative: string, content: unknown): Promise<string>;
  /** Writes to a temp file beside `relative`, then renames it over, as editors save. */
  replace(relative: string, content: unknown): Promise<string>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Every cleanup runs, even after one failed (temp folders are removed last); the first failure is reported.
  const failures: unknown[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => failures.push(error));
  if (failures.length > 0) throw failures[0];
});

/** A fresh folder under the OS temp folder, removed after the current test. */
export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), 'glean-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const text = (content: unknown): string => (typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  let counter = 0;
  const temp: TempDir = {
    dir,
    path: (relative) => join(dir, relative),
    async write(relative, content) {
      const file = join(dir, relative);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text(content));
      return file;
    },
    async replace(relative, content) {
      const file = join(dir, relative);
      const tmp = `${file}.${process.pid}.${counter++}.tmp`;
      await writeFile(tmp, text(content));
      await rename(tmp, file);
      return file;
    },
  };
  return temp;
}

/** Runs `cleanup` after the current test, before temp folders are removed. */
export function onCleanup(cleanup: () => Promise<unknown> | unknown): void {
  cleanups.push(async () => {
    await cleanup();
  });
}

/** OS threads of this process (`Threads:` in /proc/self/status). */
export function threadCount(): number {
  const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (match === null) throw new Error('no Threads: line in /proc/self/status');
  return Number(match[1]);
}

/** Resolves once `condition()` is true, checking every 5 ms; rejects with `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The next `event` whose payload passes `filter`; rejects after `timeoutMs`. */
export function nextEvent<T = unknown>(
  emitter: EventEmitter,
  event: string,
  filter: (payload: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    const listener = (payload: T): void => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(payload);
    };
    emitter.on(event, listener);
  });
}

/** Waits until this process has at most `baseline` OS threads again (workers take a moment to exit). */
export function threadsBackTo(baseline: number, timeoutMs = 10_000): Promise<void> {
  return until(() => threadCount() <= baseline, `thread count back to ${baseline} (now ${threadCount()})`, timeoutMs);
}

/** A glean config entry. */
export interface Entry {
  id: string;
  file: string;
  name: string;
  version?: string;
  [option: string]: unknown;
}

/** Makes a Kubernetes ConfigMap layout: `plugin.json -> ..data/plugin.json`, `..data -> ..<stamp>`. Returns a function that swaps in new content. */
export async function configMap(
  temp: TempDir,
  content: unknown,
): Promise<{ configPath: string; swap(next: unknown): Promise<void> }> {
  let generation = 0;
  const publish = async (next: unknown): Promise<void> => {
    const stamp = `..2026_11_28_${String(generation++).padStart(4, '0')}`;
    await temp.write(`${stamp}/plugin.json`, next);
    await symlink(stamp, temp.path('..data_tmp'));
    await rename(temp.path('..data_tmp'), temp.path('..data'));
  };
  await publish(content);
  await symlink('..data/plugin.json', temp.path('plugin.json'));
  return { configPath: temp.path('plugin.json'), swap: publish };
}

export { rename, writeFile, symlink, rm };
