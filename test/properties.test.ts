/**
 * Invariants under random sequences (fast-check): config edits (add, remove, re-point, version and
 * option changes, plugin edits, broken plugins, invalid configs, rapid bursts) interleaved with calls
 * and plugin crashes. After every run:
 * - every call settled, with a result from a version that was current at some moment during the
 *   call, or with a code the situation documents;
 * - once settled, the live versions are exactly those of the last valid config (events, status()
 *   and the OS thread count agree), and no handle points at a retired version;
 * - no unhandled rejection and no `error` event without a listener reached the host.
 *
 * The CI run is a few short sequences. A longer run:
 *   GLEAN_PROPERTY_RUNS=200 GLEAN_PROPERTY_LENGTH=30 npx vitest run test/properties.test.ts
 * (GLEAN_PROPERTY_SEED and GLEAN_PROPERTY_PATH, as a failure prints them, replay it; GLEAN_PROPERTY_SHRINK=1
 * shrinks a failure, slowly.)
 * Changes are applied with `watch: false` and reloadConfig(), so a run depends on its sequence only.
 *
 * Nothing is tolerated. A version runs the bytes the host read and hashed, which its workers get
 * from the host, never by path: a save racing a reload's read runs nowhere ("ran bytes saved after
 * …" would say it did; test/version-bytes.test.ts stages that race deterministically).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ErrorCode, Glean, GleanError, type Handle } from '@glean/core';
import { ownedTempDir, tempDir, threadCount, threadsBackTo, until, type TempDir } from './helpers/index.js';
import { gleanOver } from './helpers/glean.js';

const RUNS = Number(process.env['GLEAN_PROPERTY_RUNS'] ?? 6);
const LENGTH = Number(process.env['GLEAN_PROPERTY_LENGTH'] ?? 8);
const SEED = process.env['GLEAN_PROPERTY_SEED'] === undefined ? undefined : Number(process.env['GLEAN_PROPERTY_SEED']);
const PATH = process.env['GLEAN_PROPERTY_PATH'];
const SHRINK = process.env['GLEAN_PROPERTY_SHRINK'] === '1';
/** Where the race behind a violation of the bytes a version runs is staged deterministically. */
const STALE_BYTES_BUG = 'see test/version-bytes.test.ts, which stages the race deterministically';

const IDS = ['A', 'B', 'C'] as const;
const FILES = ['a.mjs', 'b.mjs', 'c.mjs'] as const;
type Id = (typeof IDS)[number];
type File = (typeof FILES)[number];

const INVALID_CONFIGS = {
  'not JSON': 'plugins: a.mjs',
  empty: '',
  'half-written': '[{ "id": "A", "file": "a.m',
  'wrong type': JSON.stringify([{ id: 'A', file: 7, name: 'Plugin' }]),
  'unknown key': JSON.stringify([{ id: 'A', file: 'a.mjs', name: 'Plugin', thread: 2 }]),
  'duplicate id': JSON.stringify([
    { id: 'A', file: 'a.mjs', name: 'Plugin' },
    { id: 'A', file: 'b.mjs', name: 'Plugin' },
  ]),
  'threads absurd': JSON.stringify([{ id: 'A', file: 'a.mjs', name: 'Plugin', threads: 1e6 }]),
} as const;
type InvalidKind = keyof typeof INVALID_CONFIGS;

type EditOp =
  | { readonly type: 'set'; readonly id: Id; readonly file: File }
  | { readonly type: 'remove'; readonly id: Id }
  | { readonly type: 'version'; readonly id: Id }
  | { readonly type: 'threads'; readonly id: Id; readonly threads: 1 | 2 }
  | { readonly type: 'edit'; readonly file: File }
  | { readonly type: 'break'; readonly file: File }
  | { readonly type: 'invalid'; readonly kind: InvalidKind };
type SimpleOp =
  | EditOp
  | { readonly type: 'calls'; readonly id: Id; readonly n: number }
  | { readonly type: 'crash'; readonly id: Id };
type Op = SimpleOp | { readonly type: 'burst'; readonly ops: readonly SimpleOp[] };

const id = fc.constantFrom(...IDS);
const file = fc.constantFrom(...FILES);
const editOp: fc.Arbitrary<EditOp> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('set' as const), id, file }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('remove' as const), id }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('version' as const), id }), weight: 1 },
  {
    arbitrary: fc.record({
      type: fc.constant('threads' as const),
      id,
      threads: fc.constantFrom(1 as const, 2 as const),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ type: fc.constant('edit' as const), file }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('break' as const), file }), weight: 1 },
  {
    arbitrary: fc.record({
      type: fc.constant('invalid' as const),
      kind: fc.constantFrom(...(Object.keys(INVALID_CONFIGS) as InvalidKind[])),
    }),
    weight: 1,
  },
);
const simpleOp: fc.Arbitrary<SimpleOp> = fc.oneof(
  { arbitrary: editOp, weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('calls' as const), id, n: fc.integer({ min: 1, max: 6 }) }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('crash' as const), id }), weight: 1 },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: simpleOp, weight: 5 },
  {
    arbitrary: fc.record({
      type: fc.constant('burst' as const),
      ops: fc.array(simpleOp, { minLength: 2, maxLength: 5 }),
    }),
    weight: 1,
  },
);

/**
 * A plugin whose answer is its tag. One expression ending in `}`, so no prefix of it is a module
 * that loads (a half-read file could not pass for a version).
 */
const pluginSource = (tag: string): string =>
  `export const Plugin = { run() { return ${JSON.stringify(tag)}; }, crash() { process.exit(1); } }`;
const brokenSource = (n: number): string => `export const Plugin = { run() { return 'broken ${n}'`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

interface EntryModel {
  readonly file: File;
  readonly version: number;
  readonly threads: 1 | 2;
}

/** What is on disk. */
interface Disk {
  entries: Map<Id, EntryModel>;
  files: Map<File, { readonly tag: string; readonly broken: boolean }>;
  configValid: boolean;
}

/** What should serve: each id's file, tag (the plugin's answer), version text and threads. */
type Applied = Map<Id, EntryModel & { readonly tag: string }>;

/** What reloadConfig() must do with the disk as it is: apply it, or reject with this code. */
function expectedOutcome(disk: Disk): 'ok' | ErrorCode {
  if (!disk.configValid) return ErrorCode.CONFIG_INVALID;
  for (const entry of disk.entries.values()) if (disk.files.get(entry.file)!.broken) return ErrorCode.LOAD_FAILED;
  return 'ok';
}

function appliedFrom(disk: Disk): Applied {
  return new Map([...disk.entries].map(([key, entry]) => [key, { ...entry, tag: disk.files.get(entry.file)!.tag }]));
}

const describeApplied = (applied: Applied): string =>
  [...applied]
    .map(([key, e]) => `${key}→${e.tag}@${e.version}×${e.threads}`)
    .sort()
    .join(' ') || '(none)';

/** OS threads one plugin worker adds to this process, measured once. */
let threadsPerWorker = 0;

/** The host must see no unhandled rejection, whatever the sequence. */
const hostUnhandled: unknown[] = [];
const onHostUnhandled = (reason: unknown): void => void hostUnhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onHostUnhandled);
  const { temp, remove } = await ownedTempDir();
  try {
    await temp.write('p.mjs', pluginSource('probe'));
    const configPath = await temp.write('plugin.json', [{ id: 'P', file: 'p.mjs', name: 'Plugin' }]);
    const before = threadCount();
    const glean = new Glean(configPath, { watch: false, logger: false, prewarm: false });
    try {
      await glean.loadConfig();
      // The least over a few readings: Node may run a short-lived thread of its own right after a worker starts.
      let least = threadCount();
      for (let reading = 0; reading < 20; reading++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        least = Math.min(least, threadCount());
      }
      threadsPerWorker = least - before;
    } finally {
      await glean.close();
    }
    await threadsBackTo(before);
  } finally {
    await remove();
  }
});
afterAll(() => {
  process.off('unhandledRejection', onHostUnhandled);
});

interface PluginApi {
  run(): string;
  crash(): never;
}

/** `a.mjs#7` → `['a.mjs', 7]`: every content written gets a label of its file and a global counter. */
function parseLabel(label: string): [string, number] {
  const at = label.lastIndexOf('#');
  return [label.slice(0, at), Number(label.slice(at + 1))];
}

/**
 * Whether `answer` came from a version whose bytes were hashed as `label`: 'exact', or 'later bytes'
 * when it came from a content of the same file saved after it (the known bug, a violation too, told
 * apart to say so), or false.
 */
function answers(label: string, answer: string): 'exact' | 'later bytes' | false {
  if (answer === label) return 'exact';
  const [file, n] = parseLabel(label);
  const [answerFile, answerN] = parseLabel(answer);
  return answerFile === file && answerN > n ? 'later bytes' : false;
}

/** Runs one sequence against a fresh Glean (with or without spare threads) and returns what broke; none is a pass. */
async function runSequence(ops: readonly Op[], prewarm: boolean): Promise<string[]> {
  const violations: string[] = [];
  const temp: TempDir = await tempDir();
  let counter = 0;
  const hashToLabel = new Map<string, string>();

  const disk: Disk = { entries: new Map(), files: new Map(), configValid: true };
  const writePlugin = async (name: File, broken: boolean): Promise<void> => {
    const n = ++counter;
    const tag = `${name}#${n}`;
    const source = broken ? brokenSource(n) : pluginSource(tag);
    hashToLabel.set(sha256(source), tag);
    disk.files.set(name, { tag, broken });
    // Renamed over, as editors save: a reload never reads half a file.
    await temp.replace(name, source);
  };
  const writeConfig = async (): Promise<void> => {
    disk.configValid = true;
    await temp.replace(
      'plugin.json',
      // drainTimeoutMs bounds how long a call can stay pending if a drain bug comes back.
      [...disk.entries].map(([key, e]) => ({
        id: key,
        file: e.file,
        name: 'Plugin',
        version: `v${e.version}`,
        threads: e.threads,
        drainTimeoutMs: 3_000,
      })),
    );
  };
  for (const name of FILES) await writePlugin(name, false);
  disk.entries.set('A', { file: 'a.mjs', version: 0, threads: 1 });
  disk.entries.set('B', { file: 'b.mjs', version: 0, threads: 1 });
  await writeConfig();

  const baseline = threadCount();
  const logged: string[] = [];
  const glean = gleanOver(temp.path('plugin.json'), {
    prewarm,
    logger: { warn() {}, error: (message: string) => void logged.push(message) },
  });

  // What serves, as the events tell it (label of the hashed bytes, version text); each id's history of it, for call windows.
  const live = new Map<Id, { label: string; version: string }>();
  const history = new Map<Id, (string | null)[]>(IDS.map((key) => [key, [null]]));
  const onVersion = (key: string, to: { file: string; version: string; contentHash: string }): void => {
    const label = hashToLabel.get(to.contentHash);
    if (label === undefined)
      violations.push(`${key} moved to a version of bytes never written (${to.file}, ${to.contentHash.slice(0, 8)})`);
    else if (temp.path(parseLabel(label)[0]) !== to.file)
      violations.push(`${key} moved to ${to.file} holding the bytes of ${label}`);
    live.set(key as Id, { label: label ?? '?', version: to.version });
    history.get(key as Id)!.push(label ?? '?');
  };
  glean.on('load', (event) => onVersion(event.id, event.to));
  glean.on('reload', (event) => onVersion(event.id, event.to));
  // A replacement worker fails to import only bytes other than its version's, which loaded before.
  glean.on('crash', (event) => {
    if (event.error.code === ErrorCode.LOAD_FAILED)
      violations.push(
        `a restarted worker of ${event.ids.join()} could not import its version's bytes (${event.error.message})`,
      );
  });
  glean.on('remove', (event) => {
    live.delete(event.id as Id);
    history.get(event.id as Id)!.push(null);
  });

  let applied: Applied = appliedFrom(disk);
  const reloadErrors = new Set<unknown>();
  const calls: Promise<void>[] = [];
  const crashWindows: { start: number; end: number }[] = [];
  const handles = new Map<Id, Handle<PluginApi>>();
  let clock = 0;

  await glean.loadConfig();

  const stateOf = (key: Id): string | undefined => glean.status()[key]?.state;

  /** Makes a call through the id's live handle; checks its outcome against what served the id while it ran. */
  const call = (key: Id, method: 'run' | 'crash'): Promise<void> => {
    const start = ++clock;
    const from = history.get(key)!.length - 1;
    const failedAtStart = stateOf(key) === 'failed';
    const loadingAtStart = stateOf(key) === 'loading';
    // A worker of the id's version is down (crashed, its replacement not serving yet): a call now may wait for it.
    const threadsAtStart = glean.status()[key]?.threads;
    const workerDownAtStart =
      threadsAtStart !== undefined &&
      (threadsAtStart.some((t) => !t.ready) || threadsAtStart.length < (applied.get(key)?.threads ?? 1));
    const crashWindow = method === 'crash' ? { start, end: Infinity } : undefined;
    if (crashWindow !== undefined) crashWindows.push(crashWindow);
    const handle = handles.get(key);
    const pending: Promise<unknown> =
      handle !== undefined
        ? handle[method]()
        : glean.reloadAndWatch<PluginApi>(key).then((fresh) => {
            handles.set(key, fresh);
            return method === 'crash' ? fresh.crash() : fresh.run();
          });
    const what = `${method}() on ${key} (call ${start})`;
    return pending.then(
      (value) => {
        if (crashWindow !== undefined) crashWindow.end = ++clock;
        const window = history.get(key)!.slice(from);
        const how = window.map((label) => (label === null ? false : answers(label, String(value))));
        if (method === 'crash') violations.push(`${what} resolved with ${String(value)}`);
        else if (how.includes('exact')) return;
        else if (how.includes('later bytes'))
          violations.push(
            `${what} ran bytes saved after its version was hashed: ${String(value)}, current during the call: ${window.join(', ')} (${STALE_BYTES_BUG})`,
          );
        else violations.push(`${what} answered ${String(value)}; current during the call: ${window.join(', ')}`);
      },
      (error: unknown) => {
        const end = ++clock;
        if (crashWindow !== undefined) crashWindow.end = end;
        const code = error instanceof GleanError ? error.code : `not a GleanError: ${String(error)}`;
        const window = history.get(key)!.slice(from);
        // A crash call overlapping this one; any crash call before this one settled.
        const metCrash = crashWindows.some((w) => w.start <= end && w.end >= start);
        const crashedBefore = crashWindows.some((w) => w.start <= end);
        const allowed =
          (code === ErrorCode.NOT_CONFIGURED && window.includes(null)) ||
          (code === ErrorCode.PLUGIN_CRASHED && metCrash) ||
          // Queued for a crashed worker whose restart then found the file changed (a stale version takes no
          // new worker; glean reloads): the call never ran (test/queued-calls.test.ts).
          (code === ErrorCode.PLUGIN_CRASHED && crashedBefore && workerDownAtStart) ||
          // A failed version shows as `loading` while a reload prepares its replacement.
          (code === ErrorCode.UNAVAILABLE &&
            (failedAtStart ||
              stateOf(key) === 'failed' ||
              (crashedBefore && (loadingAtStart || stateOf(key) === 'loading'))));
        if (!allowed) violations.push(`${what} rejected ${code}: ${(error as Error).message}`);
      },
    );
  };

  const applyEdit = async (edit: EditOp): Promise<void> => {
    switch (edit.type) {
      case 'set': {
        const before = disk.entries.get(edit.id);
        disk.entries.set(edit.id, { file: edit.file, version: before?.version ?? 0, threads: before?.threads ?? 1 });
        return writeConfig();
      }
      case 'remove':
        disk.entries.delete(edit.id);
        return writeConfig();
      case 'version':
      case 'threads': {
        const before = disk.entries.get(edit.id);
        if (before !== undefined) {
          disk.entries.set(
            edit.id,
            edit.type === 'version' ? { ...before, version: before.version + 1 } : { ...before, threads: edit.threads },
          );
        }
        return writeConfig();
      }
      case 'edit':
      case 'break':
        return writePlugin(edit.file, edit.type === 'break');
      case 'invalid':
        disk.configValid = false;
        await temp.replace('plugin.json', INVALID_CONFIGS[edit.kind]);
    }
  };

  /** reloadConfig()'s outcome, as 'ok' or the code it rejected with. */
  const reload = (): Promise<string> =>
    glean.reloadConfig().then(
      () => 'ok',
      (error: unknown) => {
        // Reloads asked for while one runs share its outcome: one error, logged once.
        reloadErrors.add(error);
        return error instanceof GleanError ? error.code : `not a GleanError: ${String(error)}`;
      },
    );

  const fromEvents = (): string =>
    [...live]
      .map(([key, v]) => `${key}→${v.label}@${v.version}`)
      .sort()
      .join(' ') || '(none)';
  const expectedFromModel = (model: Applied): string =>
    [...model]
      .map(([key, e]) => `${key}→${e.tag}@v${e.version}`)
      .sort()
      .join(' ') || '(none)';
  /**
   * The same ids, files and versions as `model`, each on a content its file held then or later: a
   * reload reads the config first and the plugin files after it, so during a burst it may pair a
   * config with files saved after it (and hash a content that a later save replaces before import).
   */
  const fitsWithLaterFiles = (model: Applied): boolean =>
    model.size === live.size &&
    [...model].every(([key, e]) => {
      const now = live.get(key);
      if (now === undefined || now.version !== `v${e.version}`) return false;
      const [file, n] = parseLabel(now.label);
      return file === e.file && n >= parseLabel(e.tag)[1];
    });
  /** `model` with each id's bytes as the events tell. */
  const withLiveBytes = (model: Applied): Applied =>
    new Map([...model].map(([key, e]) => [key, { ...e, tag: live.get(key)!.label }]));

  const checkApplied = (when: string): void => {
    if (fromEvents() === expectedFromModel(applied)) return;
    violations.push(`${when}: events say ${fromEvents()}, the last valid config ${describeApplied(applied)}`);
  };

  for (const [index, step] of ops.entries()) {
    if (step.type === 'calls') {
      for (let i = 0; i < step.n; i++) calls.push(call(step.id, 'run'));
    } else if (step.type === 'crash') {
      calls.push(call(step.id, 'crash'));
    } else if (step.type === 'burst') {
      // Rapid changes: no reload is awaited until the burst is over; they coalesce.
      const candidates: Applied[] = [applied];
      const reloads: Promise<string>[] = [];
      for (const inner of step.ops) {
        if (inner.type === 'calls') for (let i = 0; i < inner.n; i++) calls.push(call(inner.id, 'run'));
        else if (inner.type === 'crash') calls.push(call(inner.id, 'crash'));
        else {
          await applyEdit(inner);
          // Any valid config of the burst may be what a reload read (its plugin files perhaps later).
          if (disk.configValid) candidates.push(appliedFrom(disk));
          reloads.push(reload());
        }
      }
      const outcomes = await Promise.all(reloads);
      const expected = expectedOutcome(disk);
      const where = `step ${index} (burst ${JSON.stringify(step.ops)})`;
      if (outcomes.length > 0 && outcomes.at(-1) !== expected)
        violations.push(`${where}: the last reload gave ${outcomes.at(-1)}, expected ${expected}`);
      if (expected === 'ok') {
        applied = appliedFrom(disk);
        checkApplied(`after ${where}`);
      } else {
        // Events do not tell `threads`: of the configs they fit, prefer the latest whose thread counts status() shows.
        const threadsAgree = (candidate: Applied): boolean =>
          [...candidate].every(([key, e]) => glean.status()[key]?.threads.length === e.threads);
        const latestFirst = [...candidates].reverse();
        const fits = latestFirst.filter((candidate) => expectedFromModel(candidate) === fromEvents());
        const exact = fits.find(threadsAgree) ?? fits[0];
        const later = latestFirst.filter(fitsWithLaterFiles);
        const fitting = exact ?? later.find(threadsAgree) ?? later[0];
        if (fitting === undefined)
          violations.push(`${where}: events say ${fromEvents()}, which no config of the burst was`);
        else applied = exact ?? withLiveBytes(fitting);
      }
    } else {
      await applyEdit(step);
      const expected = expectedOutcome(disk);
      const outcome = await reload();
      if (outcome !== expected)
        violations.push(`step ${index} (${JSON.stringify(step)}): reloadConfig gave ${outcome}, expected ${expected}`);
      if (expected === 'ok') applied = appliedFrom(disk);
      checkApplied(`after step ${index} (${JSON.stringify(step)})`);
    }
  }

  // Every call settles (bounded wait: a call left pending is a finding, not a hung test).
  let settled = 0;
  const all = Promise.all(calls.map((pending) => pending.then(() => void settled++)));
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (settled !== calls.length) violations.push(`${calls.length - settled} of ${calls.length} calls never settled`);

  // Settle: one more reload of the disk as it is drains any reload glean started by itself.
  const last = await reload();
  const expected = expectedOutcome(disk);
  if (last !== expected) violations.push(`final reloadConfig gave ${last}, expected ${expected}`);
  if (expected === 'ok') applied = appliedFrom(disk);
  checkApplied('at the end');

  const status = glean.status();
  if ([...Object.keys(status)].sort().join() !== [...applied.keys()].sort().join()) {
    violations.push(
      `status() has ids ${Object.keys(status).join()}, the last valid config ${[...applied.keys()].join()}`,
    );
  }
  const versions = new Map<string, { threads: number; file: File; tag: string; ids: Id[] }>();
  for (const [key, entry] of applied) {
    const s = status[key];
    if (s === undefined) continue;
    if (s.state !== 'ready' && s.state !== 'failed')
      violations.push(`${key} is ${s.state} once settled: its handle points at a version that is not current`);
    if (s.file !== temp.path(entry.file) || s.version !== `v${entry.version}`)
      violations.push(`${key}: status() says ${s.file}@${s.version}, expected ${entry.file}@v${entry.version}`);
    const versionKey = `${entry.file}|${entry.tag}|${entry.version}|${entry.threads}`;
    const group = versions.get(versionKey) ?? { threads: entry.threads, file: entry.file, tag: entry.tag, ids: [] };
    group.ids.push(key);
    versions.set(versionKey, group);
  }
  // With prewarm, one spare set of threads per thread shape (here: the `threads` value) of the configured ids.
  const spareWorkers = prewarm
    ? [...new Set([...applied.values()].map((entry) => entry.threads))].reduce((sum, n) => sum + n, 0)
    : 0;
  // A crashed worker may still be waiting for its restart (backoff), or turn its version failed (a crash
  // loop, or a crash after its file changed when no reload can succeed): wait for the counts to agree.
  const failed = (group: { ids: Id[] }): boolean => glean.status()[group.ids[0]!]?.state === 'failed';
  const expectedWorkers = (): number =>
    [...versions.values()].reduce((sum, group) => sum + (failed(group) ? 0 : group.threads), 0);
  const serving = (group: { ids: Id[] }): number => glean.status()[group.ids[0]!]?.threads.length ?? 0;
  // A worker that crashed after its file changed on disk is not restarted (other bytes); while no reload
  // can succeed, its version serves on with the others. piscina still keeps an idle thread in its place.
  const degradedOk = (group: { file: File; tag: string; threads: number; ids: Id[] }): boolean =>
    disk.files.get(group.file)!.tag !== group.tag &&
    crashWindows.length > 0 &&
    serving(group) >= 1 &&
    serving(group) < group.threads;
  const workersAgree = (): boolean =>
    [...versions.values()].every(
      (group) => serving(group) === (failed(group) ? 0 : group.threads) || degradedOk(group),
    );
  const workersNow = (): number => [...versions.values()].reduce((sum, group) => sum + serving(group), 0);
  const osThreads = (): number => threadCount() - baseline;
  const expectedOsThreads = (): number => threadsPerWorker * (expectedWorkers() + spareWorkers);
  // A restarted worker loads the bytes its restart checked through glean's source hooks, which run in
  // a hooks thread of their own: at most one more OS thread per restart of a live version.
  const restartHooks = (): number =>
    [...versions.values()].reduce(
      (sum, group) => sum + (failed(group) ? 0 : (glean.status()[group.ids[0]!]?.restarts ?? 0)),
      0,
    );
  const threadsAgree = (): boolean =>
    osThreads() >= expectedOsThreads() && osThreads() <= expectedOsThreads() + restartHooks();
  await until(() => workersAgree() && threadsAgree(), 'threads of the live versions (and spares) only', 8_000).catch(
    () => {
      violations.push(
        `${workersNow()} workers and ${osThreads()} OS threads once settled; the live versions have ${expectedWorkers()} workers, plus ${spareWorkers} spare (${threadsPerWorker} OS threads each, and at most ${restartHooks()} hooks threads of restarted workers)`,
      );
    },
  );
  for (const [versionKey, group] of versions) {
    const threadIds = group.ids.map((key) =>
      glean
        .status()
        [key]!.threads.map((t) => t.threadId)
        .join(),
    );
    if (new Set(threadIds).size !== 1)
      violations.push(
        `ids ${group.ids.join()} share version ${versionKey} but not its workers: ${threadIds.join(' / ')}`,
      );
  }

  // Every id that serves answers from the last valid config.
  for (const [key, entry] of applied) {
    if (glean.status()[key]?.state !== 'ready') continue;
    const handle = handles.get(key) ?? (await glean.reloadAndWatch<PluginApi>(key));
    const answer = await handle.run().catch((error: Error) => `rejected: ${error.message}`);
    const how = answers(entry.tag, answer);
    if (how === 'later bytes')
      violations.push(
        `${key} answers ${answer} once settled, bytes saved after ${entry.tag} was hashed (${STALE_BYTES_BUG})`,
      );
    else if (how !== 'exact') violations.push(`${key} answers ${answer} once settled, expected ${entry.tag}`);
  }

  if (glean.listenerCount('error') !== 0) violations.push('an error listener was attached');
  if (logged.length < reloadErrors.size)
    violations.push(`${reloadErrors.size} reloads failed but only ${logged.length} errors reached the logger`);
  if (hostUnhandled.length > 0) violations.push(`unhandled rejections: ${hostUnhandled.map(String).join('; ')}`);

  await glean.close();
  await threadsBackTo(baseline).catch(() => {
    violations.push(`threads not back to ${baseline} after close(): ${threadCount()}`);
  });
  return violations;
}

describe('random sequences of config edits, calls and crashes', () => {
  it(
    `keep every invariant (${RUNS} runs of up to ${LENGTH} steps)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: LENGTH }), fc.boolean(), async (ops, prewarm) => {
          const violations = await runSequence(ops, prewarm);
          expect(violations, `prewarm ${prewarm}, sequence: ${JSON.stringify(ops)}`).toEqual([]);
        }),
        {
          numRuns: RUNS,
          endOnFailure: !SHRINK,
          ...(SEED === undefined ? {} : { seed: SEED }),
          ...(PATH === undefined ? {} : { path: PATH }),
        },
      );
    },
    Math.max(30_000, RUNS * LENGTH * 2_000),
  );
});
