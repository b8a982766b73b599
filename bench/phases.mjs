/**
 * The phases benchmark: where a reload's time goes, each part measured on its own, interleaved
 * round by round, and what a reload would cost if the slow parts moved ahead of time.
 *
 * Parts: glean's own config work (reloadConfig() with nothing changed), the watcher (a config
 * write until glean starts reading it, default debounce and 0), a cold worker thread (raw `Worker`),
 * a cold piscina pool (glean's options), importing the small plugin in a thread already running,
 * esbuild transforming the `.ts` plugin on the host (what glean's host does for every TypeScript
 * module), a cold glean version (`loadSymbol`) of `.mjs` and `.ts`, and the end of each
 * (terminate, destroy, release). The estimates add medians of these parts; they are estimates, not
 * measurements.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Glean, loadSymbol, release } from '@glean/core';
import { Piscina } from 'piscina';
import { timelinePluginSource } from './fixtures/timeline.mjs';
import { now } from './lib/clock.mjs';
import { withTimeout } from './lib/deadline.mjs';
import { fixed } from './lib/format.mjs';
import { GLEAN_POOL_OPTIONS } from './lib/glean-pool.mjs';
import { quiet } from './lib/quiet.mjs';
import { observeReads } from './lib/patches.mjs';
import { interleave } from './lib/rounds.mjs';
import { scratchFolder } from './lib/scratch.mjs';
import { summarize } from './lib/stats.mjs';

export const name = 'phases';

const PLANS = {
  full: { warmupRounds: 3, rounds: 30 },
  quick: { warmupRounds: 1, rounds: 8 },
};

/** glean's worker entry (comlink, the protocol, the loader): what every glean thread imports before the plugin. */
const ENTRY = import.meta.resolve('@glean/worker/entry');

/** A part that has not finished in this long is a failure (an observation that broke), not a sample. */
const PART_TIMEOUT_MS = 20_000;

const workerFile = (file) => fileURLToPath(new URL(`./workers/${file}`, import.meta.url));

/** Resolves with the next message of `worker`; rejects if it errors or exits first. */
function nextMessage(worker) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message) => {
      cleanup();
      if (message?.error !== undefined) reject(new Error(message.error));
      else resolve(message);
    };
    const onError = (error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code) => {
      cleanup();
      reject(new Error(`worker exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** A thread's start split at its environment, bootstrap and module evaluation, from `start` (all ms). */
function threadParts(start, timeline, answeredAt) {
  return {
    toEnvironment: timeline.environment - start,
    bootstrap: timeline.bootstrapComplete - timeline.environment,
    toEvaluated: timeline.evaluatedAt - timeline.bootstrapComplete,
    toAnswer: answeredAt - timeline.evaluatedAt,
  };
}

/** Every part: `measure()` resolves with named durations in ms; `close()` ends what it kept. */
async function startParts(scratch, reads) {
  await scratch.write('package.json', '{ "type": "module" }\n');
  await scratch.write('plugin.mjs', timelinePluginSource(false));
  const tsSource = timelinePluginSource(true);
  await scratch.write('plugin.ts', tsSource);
  const mjsUrl = pathToFileURL(scratch.file('plugin.mjs')).href;

  const gleans = [];
  /** A Glean of its own, in a folder of its own, serving the small `.mjs` plugin. */
  const newGlean = async (label, options) => {
    const folder = await scratchFolder(`phases-${label}`);
    await folder.write('plugin.mjs', timelinePluginSource(false));
    const configPath = folder.file('plugin.json');
    const text = `${JSON.stringify([{ id: 'P', file: 'plugin.mjs', name: 'which', version: '1' }], null, 2)}\n`;
    await writeFile(configPath, text);
    const glean = new Glean(configPath, { logger: false, ...options });
    gleans.push({ glean, folder });
    await glean.loadConfig();
    return { glean, configPath, text };
  };

  const quiet = await newGlean('config', { watch: false });
  /** A config write with the same text: the watcher fires, glean reads, finds nothing changed. */
  const watcher = async (debounceMs) => {
    const { configPath, text } = await newGlean(`watch-d${debounceMs ?? 'default'}`, {
      watch: true,
      ...(debounceMs === undefined ? {} : { debounceMs }),
    });
    return async () => {
      let readAt;
      const read = new Promise((resolve) =>
        reads.onRead(configPath, () => {
          readAt ??= now();
          resolve(readAt);
        }),
      );
      const start = now();
      await writeFile(configPath, text);
      await withTimeout(
        read,
        PART_TIMEOUT_MS,
        `phases, watcher (debounceMs ${debounceMs ?? 'default'}): glean's read of the config`,
      );
      reads.onRead(configPath, undefined);
      return { toRead: readAt - start };
    };
  };

  /** `use(worker)` on a thread started and waiting (untimed), then told to load: the spare-thread case. */
  const withSpare = async (use) => {
    const worker = new Worker(workerFile('phase-loader.mjs'));
    try {
      await nextMessage(worker);
      return await use(worker);
    } finally {
      await worker.terminate();
    }
  };
  const ask = async (worker, message) => {
    worker.postMessage(message);
    return (await nextMessage(worker)).ms;
  };

  /** A cold glean version of `file`: loadSymbol, the first call, a second call, then release. */
  const gleanCold = (file) => async () => {
    const start = now();
    const handle = await loadSymbol(file, 'which', { logger: false });
    const loadedAt = now();
    const timeline = await handle();
    const answeredAt = now();
    await handle();
    const secondCall = now() - answeredAt;
    const releaseStart = now();
    await release(handle);
    return {
      total: answeredAt - start,
      ...threadParts(start, timeline, answeredAt),
      evaluatedToLoaded: loadedAt - timeline.evaluatedAt,
      firstCall: answeredAt - loadedAt,
      secondCall,
      release: now() - releaseStart,
    };
  };

  const parts = [
    {
      key: 'config',
      label: 'glean: reloadConfig(), nothing changed (read, validate, hash, diff)',
      measure: async () => {
        const start = now();
        await quiet.glean.reloadConfig();
        return { total: now() - start };
      },
    },
    {
      key: 'watch-default',
      label: 'glean watcher: config write → read starts (default debounce)',
      measure: await watcher(undefined),
    },
    { key: 'watch-d0', label: 'glean watcher: config write → read starts (debounceMs 0)', measure: await watcher(0) },
    {
      key: 'worker',
      label: 'raw Worker, cold: new Worker() → first message',
      measure: async () => {
        const start = now();
        const worker = new Worker(workerFile('phase-tiny.mjs'));
        const constructorCall = now() - start;
        const timeline = await nextMessage(worker);
        const answeredAt = now();
        const stop = now();
        const ended = worker.terminate();
        // The part of terminate() that blocks the caller (glean terminates a retired version's threads inside its commit).
        const terminateCall = now() - stop;
        await ended;
        return {
          total: answeredAt - start,
          constructorCall,
          ...threadParts(start, timeline, answeredAt),
          terminateCall,
          terminate: now() - stop,
        };
      },
    },
    {
      key: 'piscina',
      label: "piscina, cold: new Piscina(glean's options) → first run() answered",
      measure: async () => {
        const start = now();
        const pool = new Piscina({ ...GLEAN_POOL_OPTIONS, filename: workerFile('phase-task.mjs') });
        const timeline = await pool.run(null);
        const answeredAt = now();
        const stop = now();
        await pool.destroy();
        return { total: answeredAt - start, ...threadParts(start, timeline, answeredAt), destroy: now() - stop };
      },
    },
    {
      key: 'import-mjs',
      label: "thread already running: import glean's worker entry, then the small .mjs plugin",
      measure: () =>
        withSpare(async (worker) => {
          const entry = await ask(worker, { op: 'import', url: ENTRY });
          return { total: await ask(worker, { op: 'import', url: mjsUrl }), entry };
        }),
    },
    {
      key: 'transform-ts',
      label: 'host: esbuild transform of the .ts plugin to JS with an inline source map',
      measure: async () => {
        const { transform } = await import('esbuild');
        const start = now();
        await transform(tsSource, {
          loader: 'ts',
          format: 'esm',
          platform: 'node',
          sourcemap: 'inline',
          sourcefile: scratch.file('plugin.ts'),
        });
        return { total: now() - start };
      },
    },
    {
      key: 'glean-mjs',
      label: 'glean, cold version: loadSymbol(.mjs) → first call answered',
      measure: gleanCold(scratch.file('plugin.mjs')),
    },
    {
      key: 'glean-ts',
      label: 'glean, cold version: loadSymbol(.ts) → first call answered',
      measure: gleanCold(scratch.file('plugin.ts')),
    },
  ];
  const close = async () => {
    // esbuild's service process would end by itself; stopping it says so.
    await (await import('esbuild')).stop?.();
    for (const { glean, folder } of gleans) {
      await glean.close();
      await folder.remove();
    }
  };
  return { parts, close };
}

/** Labels of the figures a part reports, in table order. */
const FIGURES = {
  total: 'total',
  entry: "import of glean's worker entry (before)",
  toRead: 'write → read starts',
  constructorCall: 'new Worker() call, synchronous part',
  toEnvironment: '  start → thread environment',
  bootstrap: '  Node bootstrap',
  toEvaluated: '  bootstrap → module evaluated',
  toAnswer: '  evaluated → answer received',
  evaluatedToLoaded: '  evaluated → loadSymbol resolved (load() returns with the descriptions)',
  firstCall: '  first call',
  secondCall: 'second call',
  terminateCall: 'terminate() call, synchronous part',
  terminate: 'terminate() until the thread exited',
  destroy: 'destroy()',
  release: 'release() (drain, terminate)',
};

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const scratch = await scratchFolder('phases');
  const reads = observeReads();
  let started;
  try {
    started = await startParts(scratch, reads);
    const { parts } = started;
    log(`phases: ${plan.warmupRounds} warm-up + ${plan.rounds} rounds, each part once per round`);
    const samples = new Map(parts.map((part) => [part.key, []]));
    await interleave(parts, plan, async (part, round) => {
      const figures = await part.measure();
      if (round >= 0) samples.get(part.key).push(figures);
      await quiet();
    });
    const results = Object.fromEntries(
      parts.map(({ key }) => {
        const list = samples.get(key);
        const fields = Object.keys(list[0]);
        return [
          key,
          Object.fromEntries(fields.map((field) => [field, summarize(list.map((figures) => figures[field]))])),
        ];
      }),
    );
    return { plan, parts: parts.map(({ key, label }) => ({ key, label })), results, estimates: estimates(results) };
  } finally {
    await started?.close();
    reads.stop();
    await scratch.remove();
  }
}

/**
 * Reloads as sums of part medians: the path with cold threads, and with a spare thread ready
 * before the change. "tail" is what glean does after the import: load() returns with the descriptions, the
 * handle, the first call (from the cold glean version).
 */
function estimates(results) {
  const p50 = (key, field) => results[key][field].p50;
  const config = p50('config', 'total');
  const tail = (key) => p50(key, 'evaluatedToLoaded') + p50(key, 'firstCall');
  const rows = [
    ['.mjs, reloadConfig(), cold threads: config + cold glean version', config + p50('glean-mjs', 'total')],
    [
      '.mjs, reloadConfig(), spare thread: config + import + tail',
      config + p50('import-mjs', 'total') + tail('glean-mjs'),
    ],
    [
      '.mjs, config write (default debounce), spare thread',
      p50('watch-default', 'toRead') + config + p50('import-mjs', 'total') + tail('glean-mjs'),
    ],
    [
      '.mjs, config write (debounceMs 0), spare thread',
      p50('watch-d0', 'toRead') + config + p50('import-mjs', 'total') + tail('glean-mjs'),
    ],
    ['.ts, reloadConfig(), cold threads: config + cold glean version', config + p50('glean-ts', 'total')],
    [
      '.ts, reloadConfig(), spare thread: config + host transform + import + tail',
      config + p50('transform-ts', 'total') + p50('import-mjs', 'total') + tail('glean-ts'),
    ],
    [
      '.ts, config write (default debounce), spare thread',
      p50('watch-default', 'toRead') +
        config +
        p50('transform-ts', 'total') +
        p50('import-mjs', 'total') +
        tail('glean-ts'),
    ],
  ];
  return rows.map(([label, ms]) => ({ label, ms }));
}

export function tables(figures) {
  const { plan, parts, results, estimates: rows } = figures;
  const measured = {
    title: `The parts of a reload, each measured on its own: ms, p50 and p99 over ${plan.rounds} rounds after ${plan.warmupRounds} warm-up, interleaved`,
    columns: ['part, then its figures', 'p50 ms', 'p99 ms', 'min ms', 'max ms'],
    rows: parts.flatMap(({ key, label }) => {
      const values = (s) => [fixed(s.p50, 2), fixed(s.p99, 2), fixed(s.min, 2), fixed(s.max, 2)];
      const entries = Object.entries(results[key]);
      // A part's total stands on its own line; its other figures go below it, indented.
      const [first, ...rest] =
        entries[0][0] === 'total' || entries.length === 1 ? entries : [['', undefined], ...entries];
      return [
        [label, ...(first[1] === undefined ? ['', '', '', ''] : values(first[1]))],
        ...rest.map(([field, s]) => [`    ${(FIGURES[field] ?? field).trim()}`, ...values(s)]),
      ];
    }),
    note: [
      "Thread timelines come from the thread itself (performance.nodeTiming and the module's evaluation, in the clock all threads of a process share).",
      `p99 by nearest rank: over ${plan.rounds} rounds it is the slowest.`,
    ].join('\n'),
  };
  const estimated = {
    title: 'Estimated reload to first answer, from the medians above (sums, not measurements)',
    columns: ['path', 'ms'],
    rows: rows.map(({ label, ms }) => [label, fixed(ms, 1)]),
    note: "tail: from the module's evaluation in the worker to the first call answered (load() returns with the descriptions, the first call), from the cold glean version.",
  };
  return [measured, estimated];
}
