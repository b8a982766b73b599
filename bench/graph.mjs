import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as nodeModule from 'node:module';
import { Worker } from 'node:worker_threads';
import { EDITED, graphPluginFiles } from './fixtures/graph-plugin.mjs';
import { now } from './lib/clock.mjs';
import { cpuSince } from './lib/cpu.mjs';
import { withTimeout } from './lib/deadline.mjs';
import { fixed, times } from './lib/format.mjs';
import { timeSequential } from './lib/measure.mjs';
import { observeModuleRequests } from './lib/module-requests.mjs';
import { observeReads } from './lib/patches.mjs';
import { childrenCpu, childrenCpuBetween } from './lib/processes.mjs';
import { quiet } from './lib/quiet.mjs';
import { startRawPort } from './lib/raw-port.mjs';
import { interleave } from './lib/rounds.mjs';
import { scratchFolder } from './lib/scratch.mjs';
import { latencyOf, median, pairedRatio, quantile, summarize } from './lib/stats.mjs';
import { runJsonChild } from './lib/json-child.mjs';
import { benchGlean, writeJson } from './lib/bench-glean.mjs';

export const name = 'graph';

const PLANS = {
  full: { warmupRounds: 3, rounds: 40, callRounds: 20, callWarmupRounds: 3, calls: 1000, plugins: [0, 1, 4, 8, 12] },
  quick: { warmupRounds: 1, rounds: 8, callRounds: 6, callWarmupRounds: 1, calls: 500, plugins: [0, 1, 6, 12] },
};

/** How many modules the many-module plugin has: an entry and 49 helpers. */
const MODULES = 50;

/** A reload or a floor start that has not ended in this long is a failure, not a sample. */
const TIMEOUT_MS = 20_000;

const FLOOR = 'worker';

/** The reload contenders, in table order; `change`: what each reload changes before `reloadConfig()`. */
const RELOADS = [
  { key: FLOOR, label: 'bare new Worker: start → first message, terminate → exit (floor)' },
  { key: 'mjs-1-bump', label: '.mjs, 1 module, version text bumped', ts: false, modules: 1, change: 'bump' },
  { key: 'ts-1-bump', label: '.ts, 1 module, version text bumped', ts: true, modules: 1, change: 'bump' },
  { key: 'mjs-1-edit', label: '.mjs, 1 module, the file edited', ts: false, modules: 1, change: 'edit' },
  { key: 'ts-1-edit', label: '.ts, 1 module, the file edited', ts: true, modules: 1, change: 'edit' },
  {
    key: 'mjs-50-edit',
    label: `.mjs, ${MODULES} modules, helper ${EDITED} edited`,
    ts: false,
    modules: MODULES,
    change: 'edit',
  },
  {
    key: 'ts-50-edit',
    label: `.ts, ${MODULES} modules, helper ${EDITED} edited`,
    ts: true,
    modules: MODULES,
    change: 'edit',
  },
];

/** The call contenders: the raw floor and glean handles on the plugins above. */
const CALLS = [
  { key: 'raw', label: 'raw MessagePort + id map (floor), 1 module' },
  { key: 'mjs-1', label: 'glean handle, .mjs, 1 module', ts: false, modules: 1 },
  {
    key: 'mjs-50',
    label: `glean handle, .mjs, ${MODULES} modules (add through 2 helpers)`,
    ts: false,
    modules: MODULES,
  },
  { key: 'ts-1', label: 'glean handle, .ts, 1 module', ts: true, modules: 1 },
  { key: 'ts-50', label: `glean handle, .ts, ${MODULES} modules (add through 2 helpers)`, ts: true, modules: MODULES },
];

const TINY_WORKER = new URL('./workers/phase-tiny.mjs', import.meta.url);
const MEMORY_CHILD = fileURLToPath(new URL('./lib/graph-memory-child.mjs', import.meta.url));
const MEMORY_HOOKS = new URL('./workers/memory-hooks.mjs', import.meta.url).href;

/** Writes a plugin's files into `dir`, creating its folders. */
async function writePlugin(dir, files) {
  for (const [file, text] of Object.entries(files)) {
    const path = `${dir}/${file}`;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
}

/** A Glean on a scratch folder holding one plugin, `reloadConfig()` only; `entries` names its exports by id. */
async function startGlean(label, { ts, modules }, entries) {
  const scratch = await scratchFolder(`graph-${label}`);
  await scratch.write('package.json', '{ "type": "module" }\n');
  const { entry, files } = graphPluginFiles({ typescript: ts, modules, edit: 0 });
  await writePlugin(scratch.dir, files);
  const configPath = scratch.file('plugin.json');
  const writeConfig = (version) =>
    writeJson(
      configPath,
      entries.map(([id, name]) => ({ id, file: entry, name, version: String(version) })),
    );
  await writeConfig(0);
  const { glean, errors } = benchGlean(configPath);
  try {
    await glean.loadConfig();
  } catch (error) {
    await glean.close();
    await scratch.remove();
    throw error;
  }
  const close = async () => {
    await glean.close();
    await scratch.remove();
  };
  return { glean, scratch, entry, errors, writeConfig, configPath, close };
}

/**
 * Runs `body()` and measures it: wall ms, CPU ms of the host (every thread) from the start until it
 * is idle again, CPU ms of child processes, module requests and file opens. The /proc scans that
 * read the children are outside the window.
 */
async function measured(probes, body) {
  const childrenBefore = childrenCpu();
  const openedBefore = probes.reads.opened();
  probes.requests.take();
  const cpu = process.cpuUsage();
  const startedAt = now();
  const result = await body(startedAt);
  await quiet();
  const cpuMs = cpuSince(cpu) / 1000;
  const requests = probes.requests.take();
  const opened = probes.reads.opened() - openedBefore;
  const childCpuMs = childrenCpuBetween(childrenBefore, childrenCpu());
  return { ...result, cpuMs, childCpuMs, totalCpuMs: cpuMs + childCpuMs, requests, opened, startedAt };
}

/** The floor: a bare Worker started until its first message, then terminated until it exited. */
function startFloor(probes) {
  const reload = () =>
    measured(probes, async (startedAt) => {
      const worker = new Worker(TINY_WORKER);
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      await withTimeout(
        new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
        TIMEOUT_MS,
        'bare Worker, first message',
      );
      const answeredAt = now();
      await worker.terminate();
      await withTimeout(exited, TIMEOUT_MS, 'bare Worker, exit');
      return { total: answeredAt - startedAt, stopMs: now() - answeredAt };
    });
  return { reload, errors: [], close: async () => {} };
}

async function startReloader(spec, probes) {
  const g = await startGlean(spec.key, spec, [['P', 'which']]);
  const { glean, scratch, errors } = g;
  const handle = await glean.reloadAndWatch('P');
  let lastThread = (await handle()).threadId;
  const editedFile =
    spec.modules === 1 ? g.entry : `helpers/h${String(EDITED).padStart(2, '0')}.${spec.ts ? 'ts' : 'mjs'}`;
  let edit = 0;

  const reload = async () => {
    edit++;
    if (spec.change === 'bump') await g.writeConfig(edit);
    else {
      const { files } = graphPluginFiles({ typescript: spec.ts, modules: spec.modules, edit });
      await scratch.write(editedFile, files[editedFile]);
    }
    let readAt;
    probes.reads.onRead(g.configPath, () => (readAt ??= now()));
    const retired = new Promise((resolve) => glean.once('retire', () => resolve(now())));
    const answered = new Promise((resolve, reject) => {
      const onReload = (event) => {
        if (event.id !== 'P') return;
        glean.off('reload', onReload);
        const committedAt = now();
        handle().then((value) => resolve({ committedAt, answeredAt: now(), value }), reject);
      };
      glean.on('reload', onReload);
    });
    const sample = await measured(probes, async (startedAt) => {
      const [{ committedAt, answeredAt, value }] = await withTimeout(
        Promise.all([answered, glean.reloadConfig()]),
        TIMEOUT_MS,
        `${spec.label}, reload ${edit}`,
      );
      const retiredAt = await withTimeout(retired, TIMEOUT_MS, `${spec.label}, retirement before ${edit}`);
      return { total: answeredAt - startedAt, committedAt, answeredAt, retire: retiredAt - committedAt, value };
    });
    probes.reads.onRead(g.configPath, undefined);
    const { value } = sample;
    if (value.threadId === lastThread) throw new Error(`${spec.label}: reload ${edit} was answered by the old thread`);
    lastThread = value.threadId;
    if (spec.change === 'edit' && value.mark !== edit)
      throw new Error(`${spec.label}: reload ${edit} answered with edit ${value.mark}`);
    if (readAt === undefined) throw new Error(`${spec.label}: reload ${edit}: glean's read of the config was not seen`);
    // Phases as in bench/reload.mjs, with the first module request in between: the host's config and graph work before it, the import after.
    const firstRequest = Math.max(sample.requests.firstAt ?? readAt, readAt);
    const evaluated = Math.max(value.evaluatedAt, firstRequest);
    delete sample.value;
    return {
      ...sample,
      toRead: readAt - sample.startedAt,
      toFirstRequest: firstRequest - readAt,
      toEvaluated: evaluated - firstRequest,
      toCommit: sample.committedAt - evaluated,
      toAnswer: sample.answeredAt - sample.committedAt,
    };
  };
  return { reload, errors, close: g.close };
}

const PHASES = [
  ['toRead', 'trigger → config read'],
  ['toFirstRequest', '→ first module request'],
  ['toEvaluated', '→ plugin evaluated'],
  ['toCommit', '→ committed'],
  ['toAnswer', '→ answered'],
];

async function runReloads(plan, probes, log) {
  const contenders = [];
  try {
    for (const spec of RELOADS)
      contenders.push({ ...spec, ...(spec.key === FLOOR ? startFloor(probes) : await startReloader(spec, probes)) });
    log(`graph: reloads, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds, one per contender per round`);
    const samples = new Map(contenders.map((c) => [c.key, []]));
    await interleave(contenders, plan, async (contender, round) => {
      const sample = await contender.reload();
      if (round >= 0) samples.get(contender.key).push(sample);
    });
    const column = (key, field) => samples.get(key).map((sample) => field(sample));
    const floorCpu = column(FLOOR, (s) => s.totalCpuMs);
    const results = Object.fromEntries(
      contenders.map(({ key, errors }) => {
        const list = samples.get(key);
        const col = (field) => column(key, (s) => s[field]);
        return [
          key,
          {
            totalMs: summarize(col('total')),
            hostCpuMs: median(col('cpuMs')),
            childCpuMs: median(col('childCpuMs')),
            totalCpuMs: median(col('totalCpuMs')),
            cpuVsFloor: pairedRatio(col('totalCpuMs'), floorCpu),
            resolves: median(column(key, (s) => s.requests.resolve)),
            loads: median(column(key, (s) => s.requests.load)),
            opened: median(col('opened')),
            phasesMedianMs:
              key === FLOOR ? undefined : Object.fromEntries(PHASES.map(([field]) => [field, median(col(field))])),
            errors,
            reloads: list,
          },
        ];
      }),
    );
    const p50 = (key) => results[key].totalMs.p50;
    const totals = (key) => column(key, (s) => s.total);
    const ratios = {
      tsOverMjsBump: p50('ts-1-bump') / p50('mjs-1-bump'),
      tsOverMjsEdit: p50('ts-1-edit') / p50('mjs-1-edit'),
      tsOverMjsBumpPaired: pairedRatio(totals('ts-1-bump'), totals('mjs-1-bump')),
      manyOverOneMjs: p50('mjs-50-edit') / p50('mjs-1-edit'),
      manyOverOneTs: p50('ts-50-edit') / p50('ts-1-edit'),
    };
    return { results, ratios };
  } finally {
    await Promise.allSettled(contenders.map((contender) => contender.close()));
  }
}

async function runCalls(plan, log) {
  const contenders = [];
  try {
    for (const spec of CALLS) {
      if (spec.key === 'raw') {
        const scratch = await scratchFolder('graph-raw');
        await scratch.write('package.json', '{ "type": "module" }\n');
        const { entry, files } = graphPluginFiles({ typescript: false, modules: 1, edit: 0 });
        await writePlugin(scratch.dir, files);
        const raw = await startRawPort(scratch.file(entry), 'add');
        contenders.push({ ...spec, call: (i) => raw.call([i, 1]), close: () => raw.close().then(scratch.remove) });
      } else {
        const g = await startGlean(`call-${spec.key}`, spec, [['A', 'add']]);
        const handle = await g.glean.reloadAndWatch('A');
        if ((await handle(2, 3)) !== 5) throw new Error(`${spec.label}: add(2, 3) is not 5`);
        contenders.push({ ...spec, call: (i) => handle(i, 1), close: g.close });
      }
    }
    log(
      `graph: calls, ${plan.callWarmupRounds} warm-up + ${plan.callRounds} rounds of ${plan.calls} calls per contender`,
    );
    const perRound = new Map(contenders.map((c) => [c.key, { p50: [], p99: [], cpu: [] }]));
    const into = new Float64Array(plan.calls);
    await interleave(contenders, { warmupRounds: plan.callWarmupRounds, rounds: plan.callRounds }, async (c, round) => {
      const cpu = await timeSequential(c.call, plan.calls, into);
      if (round < 0) return;
      const { p50, p99 } = summarize(into);
      const figures = perRound.get(c.key);
      figures.p50.push(p50);
      figures.p99.push(p99);
      figures.cpu.push(cpu);
    });
    const floor = perRound.get('raw');
    const results = Object.fromEntries(contenders.map(({ key }) => [key, latencyOf(perRound.get(key), floor)]));
    const vsOne = (many, one) => pairedRatio(perRound.get(many).p50, perRound.get(one).p50);
    // What "noise" is: how far the floor's own p50 moves from round to round.
    const floorP50 = Float64Array.from(floor.p50).sort();
    return {
      results,
      manyOverOne: { mjs: vsOne('mjs-50', 'mjs-1'), ts: vsOne('ts-50', 'ts-1') },
      floorSpread: { p25: quantile(floorP50, 0.25), p50: quantile(floorP50, 0.5), p75: quantile(floorP50, 0.75) },
    };
  } finally {
    await Promise.allSettled(contenders.map((contender) => contender.close()));
  }
}

/** One memory side in a child process of its own; resolves with its JSON line. */
function runMemoryChild(ts, modules, counts) {
  const args = ['--expose-gc', MEMORY_CHILD, ts ? 'ts' : 'mjs', String(modules), counts.join(',')];
  return runJsonChild(args, 'graph-memory-child');
}

/** Least-squares slope of `y` over `x`. */
function slope(x, y) {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

const MEMORY_SIDES = [
  { key: 'mjs-1', label: '.mjs, 1 module', ts: false, modules: 1 },
  { key: 'ts-1', label: '.ts, 1 module', ts: true, modules: 1 },
  { key: 'mjs-50', label: `.mjs, ${MODULES} modules`, ts: false, modules: MODULES },
  { key: 'ts-50', label: `.ts, ${MODULES} modules`, ts: true, modules: MODULES },
];

async function runMemory(plan, log) {
  const results = {};
  for (const side of MEMORY_SIDES) {
    log(`graph: memory, ${side.label}, ${plan.plugins.join('/')} plugins loaded, in a child process`);
    const { checkpoints, afterClose, errors } = await runMemoryChild(side.ts, side.modules, plan.plugins);
    // From one plugin on: what the first one starts once (a spare thread, esbuild's service) is not per plugin.
    const loaded = checkpoints.filter((c) => c.plugins >= 1);
    const x = loaded.map((c) => c.plugins);
    const per = (field) => slope(x, loaded.map(field));
    results[side.key] = {
      checkpoints,
      afterClose,
      errors,
      heapPerPlugin: per((c) => c.heapUsed),
      rssPerPlugin: per((c) => c.rss),
      childRssPerPlugin: per((c) => c.childRss),
      childrenPerPlugin: per((c) => c.children),
      threadsPerPlugin: per((c) => c.threads),
    };
  }
  const ratio = (field, side) => results[`ts-${side}`][field] / results[`mjs-${side}`][field];
  return {
    results,
    ratios: {
      heap1: ratio('heapPerPlugin', 1),
      rss1: ratio('rssPerPlugin', 1),
      heap50: ratio('heapPerPlugin', MODULES),
      rss50: ratio('rssPerPlugin', MODULES),
    },
  };
}

/**
 * Node's own cost of importing the plugin, with no glean: a bare Worker imports the one-module and
 * the 50-module `.mjs` plugin, timed inside the worker from before its `import()` to after; a fresh
 * Worker each round. From disk with no module hooks, and through module hooks that serve the same
 * modules from memory (workers/memory-hooks.mjs: `module.register` on a hooks thread where Node has
 * no `module.registerHooks`, as glean's worker does). The 50 ÷ 1 difference is what a 50-module
 * reload costs at least, whoever serves the modules; with hooks, what it costs at least through
 * hooks, which is how glean serves them.
 */
async function runImportFloor(plan, log) {
  const scratch = await scratchFolder('graph-import-floor');
  const entries = {};
  const sources = {};
  for (const modules of [1, MODULES]) {
    const dir = scratch.file(`m${modules}`);
    const { entry, files } = graphPluginFiles({ typescript: false, modules, edit: 0 });
    await writePlugin(dir, { ...files, 'package.json': '{ "type": "module" }\n' });
    entries[modules] = `${dir}/${entry}`;
    sources[modules] = Object.fromEntries(
      Object.entries(files).map(([file, text]) => [pathToFileURL(`${dir}/${file}`).href, text]),
    );
  }
  const importOnce = async (modules, hooks) => {
    const register = `const nodeModule = await import('node:module');
      const hooks = ${JSON.stringify(MEMORY_HOOKS)};
      if (typeof nodeModule.registerHooks === 'function') {
        const { initialize, resolve, load } = await import(hooks);
        initialize(workerData);
        nodeModule.registerHooks({ resolve, load });
      } else nodeModule.register(hooks, { data: workerData });`;
    const code = `const { parentPort, workerData } = await import('node:worker_threads'); ${hooks ? register : ''} const t = performance.now(); await import(${JSON.stringify(entries[modules])}); parentPort.postMessage(performance.now() - t);`;
    const worker = new Worker(code, {
      eval: true,
      type: 'module',
      workerData: hooks ? { sources: sources[modules] } : undefined,
    });
    const ms = await withTimeout(new Promise((resolve) => worker.once('message', resolve)), 10_000, 'import floor');
    await worker.terminate();
    return ms;
  };
  const sides = [
    ['one', 1, false],
    ['many', MODULES, false],
    ['hooksOne', 1, true],
    ['hooksMany', MODULES, true],
  ];
  const samples = Object.fromEntries(sides.map(([key]) => [key, []]));
  try {
    for (let round = 0; round < plan.warmupRounds + plan.rounds; round++) {
      for (const [key, modules, hooks] of sides) {
        const ms = await importOnce(modules, hooks);
        if (round >= plan.warmupRounds) samples[key].push(ms);
      }
    }
  } finally {
    await scratch.remove();
  }
  const p50 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  log?.('import floor done');
  return {
    ...Object.fromEntries(sides.map(([key]) => [key, p50(samples[key])])),
    hooks: typeof nodeModule.registerHooks === 'function' ? 'registerHooks' : 'register',
  };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const reads = observeReads();
  const requests = await observeModuleRequests();
  try {
    const reloads = await runReloads(plan, { reads, requests }, log);
    const calls = await runCalls(plan, log);
    const memory = await runMemory(plan, log);
    const importFloor = await runImportFloor(plan, log);
    return { plan, modules: MODULES, edited: EDITED, reloads, calls, memory, importFloor };
  } finally {
    requests.stop();
    reads.stop();
  }
}

const mib = (bytes) => fixed(bytes / 2 ** 20, 2);
const kib = (bytes) => fixed(bytes / 1024, 0);

export function tables(figures) {
  const { plan, reloads, calls, memory } = figures;
  const r = reloads.results;
  const reloadTable = {
    title: `Reloads by reloadConfig(): ms from the trigger to the first call answered, CPU ms from the trigger until idle (${plan.rounds} per contender after ${plan.warmupRounds} warm-up, interleaved)`,
    columns: [
      'contender',
      'p50 ms',
      'p99 ms',
      'host CPU ms',
      'child CPU ms',
      'CPU ms',
      'CPU × floor',
      'resolves',
      'loads',
      'opens',
      'errors',
    ],
    rows: RELOADS.map(({ key, label }) => [
      label,
      fixed(r[key].totalMs.p50, 1),
      fixed(r[key].totalMs.p99, 1),
      fixed(r[key].hostCpuMs, 1),
      fixed(r[key].childCpuMs, 2),
      fixed(r[key].totalCpuMs, 1),
      times(r[key].cpuVsFloor),
      String(r[key].resolves),
      String(r[key].loads),
      String(r[key].opened),
      String(r[key].errors.length),
    ]),
    note: [
      'host CPU: process.cpuUsage(), every thread of the host, from the trigger until idle (the old version ended, the next spare started). child CPU: every',
      'child process (esbuild service) from /proc schedstat. CPU × floor: median over rounds of CPU ms against the bare Worker of the same round.',
      'resolves, loads: module-channel round trips the host answered (medians). opens: files glean opened (config, changes check, module reads).',
      'The floor row: p50 is start → first message; its CPU covers start, terminate and exit.',
    ].join('\n'),
  };
  const phases = {
    title: "Where a reload's time goes, median ms of each phase",
    columns: ['contender', ...PHASES.map(([, label]) => label)],
    rows: RELOADS.filter(({ key }) => key !== FLOOR).map(({ key, label }) => [
      label,
      ...PHASES.map(([field]) => fixed(r[key].phasesMedianMs[field], 1)),
    ]),
    note: "→ first module request: config read and diff, every running version's graph checked for changes on disk, the spare handed the version; → plugin evaluated: the import, every module through the module channel.",
  };
  const ratioTable = {
    title: "Issue 12's reload targets: ratios of p50s in this run",
    columns: ['ratio', 'value', 'target'],
    rows: [
      ['.ts ÷ .mjs, reloadConfig(), version bumped', times(reloads.ratios.tsOverMjsBump), '≤ 1.15×'],
      ['.ts ÷ .mjs, reloadConfig(), file edited', times(reloads.ratios.tsOverMjsEdit), '≤ 1.15×'],
      [`.mjs, ${figures.modules} modules ÷ 1 module, edited`, times(reloads.ratios.manyOverOneMjs), '≤ 2×'],
      [`.ts, ${figures.modules} modules ÷ 1 module, edited`, times(reloads.ratios.manyOverOneTs), '≤ 2×'],
    ],
  };
  const c = calls.results;
  const callTable = {
    title: `add(a, b) one call at a time: µs, medians of per-round p50 and p99 (${plan.callRounds} rounds × ${plan.calls} calls after ${plan.callWarmupRounds} warm-up)`,
    columns: ['contender', 'p50 µs', 'p99 µs', 'p50 × floor', 'p99 × floor', 'round p50 range µs', 'CPU µs/call'],
    rows: CALLS.map(({ key, label }) => [
      label,
      fixed(c[key].p50Us, 1),
      fixed(c[key].p99Us, 1),
      times(c[key].p50VsFloor),
      times(c[key].p99VsFloor),
      `${fixed(Math.min(...c[key].roundP50Us), 1)}–${fixed(Math.max(...c[key].roundP50Us), 1)}`,
      fixed(c[key].cpuUsPerCall, 1),
    ]),
    note: `${figures.modules} modules ÷ 1 module, p50 by round: .mjs ${times(calls.manyOverOne.mjs)}, .ts ${times(calls.manyOverOne.ts)}. The floor's p50 over rounds: quartiles ${fixed(calls.floorSpread.p25, 1)} / ${fixed(calls.floorSpread.p50, 1)} / ${fixed(calls.floorSpread.p75, 1)} µs.`,
  };
  const m = memory.results;
  const memoryTable = {
    title: `Host memory per plugin loaded: slope over ${plan.plugins.filter((n) => n >= 1).join(', ')} plugins loaded (each its own version and thread), after forced GC, in child processes of its own`,
    columns: [
      'plugins',
      'heap KiB/plugin',
      'RSS MiB/plugin',
      'child RSS MiB/plugin',
      'children/plugin',
      'threads/plugin',
      `children at ${plan.plugins.at(-1)}`,
      `child RSS MiB at ${plan.plugins.at(-1)}`,
    ],
    rows: MEMORY_SIDES.map(({ key, label }) => {
      const s = m[key];
      const last = s.checkpoints.at(-1);
      return [
        label,
        kib(s.heapPerPlugin),
        mib(s.rssPerPlugin),
        mib(s.childRssPerPlugin),
        fixed(s.childrenPerPlugin, 2),
        fixed(s.threadsPerPlugin, 2),
        String(last.children),
        mib(last.childRss),
      ];
    }),
    note: [
      `.ts ÷ .mjs per plugin, 1 module: heap ${times(memory.ratios.heap1)}, RSS ${times(memory.ratios.rss1)}; ${figures.modules} modules: heap ${times(memory.ratios.heap50)}, RSS ${times(memory.ratios.rss50)}.`,
      "heap: the host's main-thread heapUsed; RSS: the host process, every thread; child: its child processes (esbuild's service), from /proc.",
      `child processes left once the Glean closed: ${MEMORY_SIDES.map(({ key }) => m[key].afterClose).join(', ')} (rows in order).`,
    ].join('\n'),
  };
  const checkpoints = {
    title: 'Host memory by plugins loaded: heap used MiB / RSS MiB / child processes',
    columns: ['plugins', ...plan.plugins.map(String)],
    rows: MEMORY_SIDES.map(({ key, label }) => [
      label,
      ...m[key].checkpoints.map(
        (p) => `${fixed(p.heapUsed / 2 ** 20, 1)} / ${fixed(p.rss / 2 ** 20, 1)} / ${p.children}`,
      ),
    ]),
  };
  const floor = figures.importFloor;
  const importTable = {
    title: `Node's own import of the plugin in a bare Worker, no glean: p50 ms over ${plan.rounds} fresh Workers`,
    columns: ['plugin', 'from disk, no hooks', 'hooks serving from memory'],
    rows: [
      ['.mjs, 1 module', fixed(floor.one, 2), fixed(floor.hooksOne, 2)],
      [`.mjs, ${figures.modules} modules`, fixed(floor.many, 2), fixed(floor.hooksMany, 2)],
    ],
    note: [
      `${figures.modules} modules cost Node ${fixed(floor.many - floor.one, 2)} ms more to import than 1 from disk, ${fixed(floor.hooksMany - floor.hooksOne, 2)} ms through module hooks`,
      `(${floor.hooks === 'registerHooks' ? 'module.registerHooks, in the thread' : "module.register, on Node's hooks thread"}): a ${figures.modules}-module reload costs at least that over a one-module reload, whoever serves the modules.`,
    ].join('\n'),
  };
  return [reloadTable, phases, ratioTable, callTable, memoryTable, checkpoints, importTable];
}
