/**
 * The reload benchmark: how long from a change to the first call answered by the new version.
 *
 * Each contender is a `Glean` of its own on a scratch folder holding one small plugin (`which()`,
 * see fixtures/timeline.mjs) and a config naming it. A reload bumps the entry's `version` text, so
 * the file and its bytes stay the same and only a new version is started. The trigger is either a
 * write of the config file (`watch: true`: the watcher sees it) or a call of `reloadConfig()` on a
 * Glean that does not watch (the config was written just before, untimed). A `reload` listener
 * makes the first call at the very moment the new version is committed, so "answered" is the first
 * call the new version could possibly answer. Between reloads the old version retires and the
 * process waits until it is idle (lib/quiet.mjs), so every reload starts from quiet.
 *
 * Where the time goes: the plugin reports (in the process's shared clock) when its thread's Node
 * environment was created, when Node's bootstrap completed and when the plugin module was
 * evaluated; the moment glean starts reading the config is seen by wrapping
 * `fs/promises.open` for the config's path (lib/patches.mjs; glean is not changed), and every
 * thread started through Node's `worker_threads` diagnostics channel (lib/thread-starts.mjs).
 */
import { writeFile } from 'node:fs/promises';
import { Glean } from '@glean/core';
import { timelinePluginSource } from './fixtures/timeline.mjs';
import { now } from './lib/clock.mjs';
import { cpuSince } from './lib/cpu.mjs';
import { withTimeout } from './lib/deadline.mjs';
import { fixed } from './lib/format.mjs';
import { quiet } from './lib/quiet.mjs';
import { observeReads } from './lib/patches.mjs';
import { interleave } from './lib/rounds.mjs';
import { scratchFolder } from './lib/scratch.mjs';
import { median, pairedDifference, summarize } from './lib/stats.mjs';
import { observeThreadStarts } from './lib/thread-starts.mjs';

export const name = 'reload';

const PLANS = {
  full: { warmupRounds: 3, rounds: 50 },
  quick: { warmupRounds: 1, rounds: 10 },
};

/** A reload that has not answered in this long is a failure, not a sample. */
const RELOAD_TIMEOUT_MS = 20_000;

/** The contenders, in table order. */
const CONTENDERS = [
  { key: 'mjs-write', label: '.mjs, config write (watch, default debounce)', ext: 'mjs', trigger: 'write' },
  {
    key: 'mjs-write-d0',
    label: '.mjs, config write (watch, debounceMs 0)',
    ext: 'mjs',
    trigger: 'write',
    debounceMs: 0,
  },
  { key: 'mjs-reload', label: '.mjs, reloadConfig()', ext: 'mjs', trigger: 'reloadConfig' },
  // The old version pinned by a handle (glean.reload) until the first answer: what retiring it at the commit costs the first call.
  {
    key: 'mjs-reload-hold',
    label: '.mjs, reloadConfig(), old version retired after the answer',
    ext: 'mjs',
    trigger: 'reloadConfig',
    holdOld: true,
  },
  { key: 'ts-write', label: '.ts, config write (watch, default debounce)', ext: 'ts', trigger: 'write' },
  { key: 'ts-reload', label: '.ts, reloadConfig()', ext: 'ts', trigger: 'reloadConfig' },
];

/** The phases of one reload, in order; each is a duration in ms and they add up to `total`. */
const PHASES = [
  ['toRead', 'trigger → config read'],
  ['toThread', '→ new thread'],
  ['bootstrap', 'Node bootstrap'],
  ['toEvaluated', '→ plugin evaluated'],
  ['toCommit', '→ committed'],
  ['toAnswer', '→ answered'],
];

async function startContender(spec, reads, starts) {
  const scratch = await scratchFolder(`reload-${spec.key}`);
  // A modern project: ESM, so `.ts` is compiled on the host as an ES module, as `.mjs` is served as one.
  await scratch.write('package.json', '{ "type": "module" }\n');
  await scratch.write(`plugin.${spec.ext}`, timelinePluginSource(spec.ext === 'ts'));
  const configPath = scratch.file('plugin.json');
  let version = 0;
  const configText = () =>
    `${JSON.stringify([{ id: 'P', file: `plugin.${spec.ext}`, name: 'which', version: String(version) }], null, 2)}\n`;
  await writeFile(configPath, configText());
  const options = {
    watch: spec.trigger === 'write',
    logger: false,
    ...(spec.debounceMs === undefined ? {} : { debounceMs: spec.debounceMs }),
  };
  const glean = new Glean(configPath, options);
  const errors = [];
  glean.on('error', (error) => errors.push(error));
  let handle;
  try {
    await glean.loadConfig();
    handle = await glean.reloadAndWatch('P');
  } catch (error) {
    await glean.close();
    await scratch.remove();
    throw error;
  }
  let lastThread = (await handle()).threadId;

  /** One reload, timed; resolves once the old version has retired and the process is idle again. */
  const reload = async () => {
    version++;
    const text = configText();
    if (spec.trigger === 'reloadConfig') await writeFile(configPath, text);
    let readAt;
    reads.onRead(configPath, () => (readAt ??= now()));
    // Not events.once(): it would reject on an 'error' event, and errors are counted, not fatal.
    const retired = new Promise((resolve) => glean.once('retire', () => resolve(now())));
    const held = spec.holdOld ? await glean.reload('P') : undefined;
    const answered = new Promise((resolve, reject) => {
      const onReload = (event) => {
        if (event.id !== 'P') return;
        glean.off('reload', onReload);
        const committedAt = now();
        handle().then((value) => {
          const answeredAt = now();
          if (held !== undefined) void glean.release(held);
          resolve({ committedAt, answeredAt, value });
        }, reject);
      };
      glean.on('reload', onReload);
    });
    starts.length = 0;
    const cpu = process.cpuUsage();
    const startedAt = now();
    const triggered = spec.trigger === 'write' ? writeFile(configPath, text) : glean.reloadConfig();
    const [{ committedAt, answeredAt, value }] = await withTimeout(
      Promise.all([answered, triggered]),
      RELOAD_TIMEOUT_MS,
      `${spec.label}, reload ${version}`,
    );
    const retiredAt = await withTimeout(
      retired,
      RELOAD_TIMEOUT_MS,
      `${spec.label}, retirement of the version before ${version}`,
    );
    // Everything the reload set off (the old version's end, a spare started for the next one) counts.
    await quiet();
    const cpuUs = cpuSince(cpu);
    const started = starts.filter((start) => start.at >= startedAt);
    reads.onRead(configPath, undefined);
    if (value.threadId === lastThread)
      throw new Error(`${spec.label}: reload ${version} was answered by the old thread ${lastThread}`);
    lastThread = value.threadId;
    // Without the read, the phases below would quietly start at the trigger: say that the observation broke instead.
    if (readAt === undefined)
      throw new Error(
        `${spec.label}: reload ${version}: glean's read of the config was not seen (bench/lib/patches.mjs)`,
      );
    // Each phase starts where the previous ended, or at the trigger if its event came before it (a thread started ahead of time).
    const read = readAt;
    const thread = Math.max(value.environment, read);
    const booted = Math.max(value.bootstrapComplete, thread);
    const evaluated = Math.max(value.evaluatedAt, booted);
    return {
      total: answeredAt - startedAt,
      toRead: read - startedAt,
      toThread: thread - read,
      bootstrap: booted - thread,
      toEvaluated: evaluated - booted,
      toCommit: committedAt - evaluated,
      toAnswer: answeredAt - committedAt,
      retire: retiredAt - committedAt,
      cpuMs: cpuUs / 1000,
      threadBeforeTrigger: value.environment < startedAt,
      // Threads started from the trigger until idle: before the reload event (the commit) and after it.
      threadStartsBeforeCommit: started.filter((start) => start.at < committedAt).length,
      threadStartsAfterCommit: started.filter((start) => start.at >= committedAt).length,
    };
  };

  const close = async () => {
    await glean.close();
    await scratch.remove();
  };
  return { ...spec, reload, errors, close };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const reads = observeReads();
  const starts = [];
  const stopObservingStarts = observeThreadStarts((start) => starts.push(start));
  const contenders = [];
  try {
    for (const spec of CONTENDERS) contenders.push(await startContender(spec, reads, starts));
    log(`reload: ${plan.warmupRounds} warm-up + ${plan.rounds} rounds, one reload per contender per round`);
    const samples = new Map(contenders.map((c) => [c.key, []]));
    await interleave(contenders, plan, async (contender, round) => {
      const sample = await contender.reload();
      if (round >= 0) samples.get(contender.key).push(sample);
    });
    const results = Object.fromEntries(
      contenders.map(({ key, errors }) => {
        const list = samples.get(key);
        const column = (field) => list.map((sample) => sample[field]);
        return [
          key,
          {
            totalMs: summarize(column('total')),
            phasesMedianMs: Object.fromEntries(PHASES.map(([field]) => [field, median(column(field))])),
            retireMedianMs: median(column('retire')),
            cpuMsPerReload: median(column('cpuMs')),
            threadsStartedBeforeTrigger: list.filter((sample) => sample.threadBeforeTrigger).length,
            threadStartsBeforeCommit: median(column('threadStartsBeforeCommit')),
            threadStartsAfterCommit: median(column('threadStartsAfterCommit')),
            errors: errors.map((error) => `${error.code}: ${error.message}`),
            reloads: list,
          },
        ];
      }),
    );
    const totals = (key) => samples.get(key).map((sample) => sample.total);
    const differences = {
      tsOverMjsReloadConfig: pairedDifference(totals('ts-reload'), totals('mjs-reload')),
      tsOverMjsWrite: pairedDifference(totals('ts-write'), totals('mjs-write')),
      writeOverReloadConfigMjs: pairedDifference(totals('mjs-write'), totals('mjs-reload')),
      debounceDefaultOverDebounce0: pairedDifference(totals('mjs-write'), totals('mjs-write-d0')),
      retireAtCommitOverAfterAnswer: pairedDifference(totals('mjs-reload'), totals('mjs-reload-hold')),
    };
    return { plan, contenders: CONTENDERS, results, differences };
  } finally {
    await Promise.allSettled(contenders.map((contender) => contender.close()));
    reads.stop();
    stopObservingStarts();
  }
}

export function tables(figures) {
  const { plan, contenders, results, differences } = figures;
  const latency = {
    title: `Reload: ms from the trigger to the first call answered by the new version (${plan.rounds} reloads per contender after ${plan.warmupRounds} warm-up, interleaved)`,
    columns: [
      'contender',
      'p50 ms',
      'p99 ms',
      'min ms',
      'max ms',
      'CPU ms/reload',
      'retire ms',
      'thread ready before',
      'errors',
    ],
    rows: contenders.map(({ key, label }) => {
      const r = results[key];
      return [
        label,
        fixed(r.totalMs.p50, 1),
        fixed(r.totalMs.p99, 1),
        fixed(r.totalMs.min, 1),
        fixed(r.totalMs.max, 1),
        fixed(r.cpuMsPerReload, 1),
        fixed(r.retireMedianMs, 1),
        `${r.threadsStartedBeforeTrigger}/${r.reloads.length}`,
        String(r.errors.length),
      ];
    }),
    note: [
      `p99 by nearest rank: over ${plan.rounds} reloads it is the ${plan.rounds < 100 ? 'slowest' : '99th percentile'} one.`,
      'CPU ms/reload: user + system time of the whole process (host and every worker thread) from the trigger until it is idle again, median.',
      "retire ms: from the commit until the old version's threads have exited (off the answer path; glean waits 10 ms before stopping them), median.",
      'thread ready before: reloads answered by a thread whose Node environment existed before the trigger (a spare started ahead of time).',
    ].join('\n'),
  };
  const phases = {
    title: "Where a reload's time goes: median ms of each phase (medians do not add up exactly to the p50 above)",
    columns: ['contender', ...PHASES.map(([, label]) => label)],
    rows: contenders.map(({ key, label }) => [
      label,
      ...PHASES.map(([field]) => fixed(results[key].phasesMedianMs[field], 1)),
    ]),
    note: [
      'trigger → config read: the watcher (fs event, debounce), or nothing for reloadConfig().',
      "→ new thread: reading, validating and hashing, the diff, a new piscina pool, until the new thread's Node environment exists (0 with a spare:",
      'then all of that is in the next phase). → plugin evaluated: with a spare, the config work above, comlink load() and the import; with a',
      "new thread, piscina's worker script, glean's worker entry, the serve task, the host's compile (.ts), comlink load() and the import.",
      '→ committed: the descriptions load() returned, the kind check, the generation switch (the old version drains from here; glean stops its',
      'threads 10 ms later, RETIRE_DELAY_MS, off the answer path). → answered: the first call on the new thread.',
    ].join('\n'),
  };
  const costs = {
    title: 'What each part costs: median over rounds of the difference between two contenders in the same round, ms',
    columns: ['difference', 'ms'],
    rows: [
      ['.ts − .mjs, reloadConfig() (compiled on the host)', fixed(differences.tsOverMjsReloadConfig, 1)],
      ['.ts − .mjs, config write', fixed(differences.tsOverMjsWrite, 1)],
      ['config write − reloadConfig(), .mjs (the watcher)', fixed(differences.writeOverReloadConfigMjs, 1)],
      ['default debounce − debounceMs 0, config write, .mjs', fixed(differences.debounceDefaultOverDebounce0, 1)],
      [
        'old version retired by glean − held until after the answer, reloadConfig(), .mjs',
        fixed(differences.retireAtCommitOverAfterAnswer, 1),
      ],
    ],
  };
  const threads = {
    title: 'Worker threads the host starts per reload (from the trigger until idle), medians',
    columns: ['contender', 'before the commit', 'after the commit'],
    rows: contenders.map(({ key, label }) => {
      const r = results[key];
      return [label, String(r.threadStartsBeforeCommit), String(r.threadStartsAfterCommit)];
    }),
    note: "Counted through Node's worker_threads diagnostics channel, which every Worker constructor publishes to (piscina's for glean included).",
  };
  return [latency, phases, costs, threads];
}
