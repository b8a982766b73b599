/**
 * Test helpers: temp folders with real files, cleanups that run after the current test, waiting on
 * events with timeouts, and the OS thread count of this process. Every folder a test makes is removed
 * after it.
 */
import { mkdtemp, rename, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { onTestFinished, TestRunner } from 'vitest';

export interface TempDir {
  readonly dir: string;
  /** Absolute path of `relative` inside the folder. */
  path(relative: string): string;
  /** Writes `content` (JSON for non-strings) to `relative`, making folders; returns the absolute path. */
  write(relative: string, content: unknown): Promise<string>;
  /** Writes to a temp file beside `relative`, then renames it over, as editors save. */
  replace(relative: string, content: unknown): Promise<string>;
}

/** Each running test's temp folders. */
const foldersOf = new WeakMap<object, string[]>();

/**
 * The current test's temp folders. The first call in a test registers their removal: vitest runs a
 * test's onTestFinished hooks as a stack, so that first hook runs last, after every cleanup the test
 * registers through these helpers. Throws, naming `what`, outside a test (a describe body, beforeAll).
 */
function foldersOfCurrentTest(what: string): string[] {
  const test = TestRunner.getCurrentTest();
  if (test === undefined)
    throw new Error(
      `${what} runs after the current test, but no test is running: in beforeAll use sharedGlean() or ownedTempDir()`,
    );
  let folders = foldersOf.get(test);
  if (folders === undefined) {
    const mine: string[] = [];
    folders = mine;
    foldersOf.set(test, mine);
    onTestFinished(async () => {
      foldersOf.delete(test); // a retry starts afresh
      await Promise.all(mine.splice(0).map(removeFolder));
    });
  }
  return folders;
}

/**
 * Runs `cleanup` after the current test (its afterEach hooks included), even a failing one. Cleanups
 * run in reverse order of registration (vitest runs onTestFinished hooks as a stack, whatever
 * `sequence.hooks` says), each one even after another failed, the test failing with every error; the
 * test's temp folders are removed after all of them. Callable in a test and in beforeEach/afterEach.
 */
export function onCleanup(cleanup: () => Promise<unknown> | unknown): void {
  foldersOfCurrentTest('onCleanup()');
  onTestFinished(async () => {
    await cleanup();
  });
}

/** `dir` as a TempDir. */
function tempDirAt(dir: string): TempDir {
  const text = (content: unknown): string => (typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  let counter = 0;
  return {
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
}

const makeTempFolder = (): Promise<string> => mkdtemp(join(tmpdir(), 'glean-test-'));
const removeFolder = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true });

/** A fresh folder under the OS temp folder, removed after the current test and after all its cleanups. */
export async function tempDir(): Promise<TempDir> {
  const folders = foldersOfCurrentTest('tempDir()');
  const dir = await makeTempFolder();
  folders.push(dir);
  return tempDirAt(dir);
}

/** A folder made now, and its removal: for a folder whose life is not one test's (beforeAll, sharedGlean()). */
export async function ownedTempDir(): Promise<{ temp: TempDir; remove(): Promise<void> }> {
  const dir = await makeTempFolder();
  return { temp: tempDirAt(dir), remove: () => removeFolder(dir) };
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
