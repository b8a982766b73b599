#!/usr/bin/env node
/**
 * Benchmarks of glean against the alternatives it was chosen over, and of its reloads.
 *
 *   node bench/run.mjs [--pin] [--quick] [name…]
 *
 * Runs from built output (`npm run build` first): it imports `@glean/core` from packages/core/dist.
 * `--quick` runs fewer rounds; `--pin` re-runs itself under `taskset -c 0`. Names pick benchmarks
 * (default: all, in table order below). Tables go to stdout, progress to stderr, and each
 * benchmark's figures to bench/results/<date>-<name>[-pinned][-quick].json, with the machine and
 * the glean commit measured. docs/benchmarks.md has the latest figures and how to read them.
 */
import { formatTable } from './lib/format.mjs';
import { machineInfo } from './lib/machine.mjs';
import { writeResults } from './lib/results.mjs';
import { isPinnedChild, runPinned } from './lib/pin.mjs';

/** One module per benchmark; each exports `name`, `run({ quick, log })` and `tables(figures)`. */
const BENCHMARKS = {
  /** Latency and throughput of one call: glean against raw MessagePort, comlink and piscina. */
  calls: () => import('./calls.mjs'),
  /** Requests/s of a CPU-bound hot HTTP handler on threads 1 and 2 against in-process, and what the hop to a worker adds per request. */
  http: () => import('./http.mjs'),
  /** 1 MiB in and out, copied and transferred, glean against raw MessagePort. */
  payload: () => import('./payload.mjs'),
  /** From a config write, or reloadConfig(), to the first call the new version answers. */
  reload: () => import('./reload.mjs'),
  /** What a drain-first swap costs against overlap: reloadConfig() and the slowest call under a steady caller. */
  handover: () => import('./handover.mjs'),
  /** Where reload time goes: each part on its own, and estimates of faster paths. */
  phases: () => import('./phases.mjs'),
  /** Heap and RSS over many reloads, glean against cache-busting import(), in child processes. */
  memory: () => import('./memory.mjs'),
  /** CPU-bound calls over `threads` from 1 to the CPUs available (only 1 under --pin). */
  scaling: () => import('./scaling.mjs'),
  /** CPU per canary routing decision (the hash of a key) against a bare Math.random() draw. */
  route: () => import('./route.mjs'),
  /** What routing adds to a call: an id with no canary against one with a canary, keyed and not. */
  canary: () => import('./canary.mjs'),
  /** What the glean.call tracing channel and registerMetrics() add to a call: nothing subscribed, a subscriber, metrics, and the raw floor. */
  traces: () => import('./traces.mjs'),
  /** Items per second of a streamed result, glean against a raw MessagePort stream with the same window. */
  stream: () => import('./stream.mjs'),
  /** Serving a plugin's modules from the host: .ts against .mjs, 50 modules against 1, CPU against a bare Worker, memory per plugin. */
  graph: () => import('./graph.mjs'),
};

const USAGE = `usage: node bench/run.mjs [--pin] [--quick] [${Object.keys(BENCHMARKS).join('|')}]…`;

const log = (message) => process.stderr.write(`${message}\n`);

/** The flags, or `undefined` (after saying why) for an argument it does not know. */
function parseArgs(argv) {
  const flags = { pin: false, quick: false, names: [] };
  for (const arg of argv) {
    if (arg === '--pin') flags.pin = true;
    else if (arg === '--quick') flags.quick = true;
    else if (Object.hasOwn(BENCHMARKS, arg)) flags.names.push(arg);
    else {
      log(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
      return undefined;
    }
  }
  if (flags.names.length === 0) flags.names = Object.keys(BENCHMARKS);
  return flags;
}

async function runBenchmark(name, flags, machine) {
  const bench = await BENCHMARKS[name]();
  const figures = await bench.run({ quick: flags.quick, log });
  const path = await writeResults(bench.name, machine, { quick: flags.quick, pinned: machine.pinned }, figures);
  for (const table of bench.tables(figures)) console.log(`\n${formatTable(table)}`);
  console.log(`\nfigures written to ${path}`);
}

async function main() {
  const flags = parseArgs(process.argv.slice(2));
  if (flags === undefined) {
    process.exitCode = 2;
    return;
  }
  if (flags.pin && !isPinnedChild()) {
    const code = await runPinned(log);
    if (code !== undefined) {
      process.exitCode = code;
      return;
    }
  }
  const machine = machineInfo(isPinnedChild());
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB, ${machine.platform}${machine.pinned ? ', pinned to CPU 0 (taskset -c 0)' : ''}, Node ${machine.node}, load ${machine.loadAverage1m.toFixed(2)}, ${machine.date}${flags.quick ? ', quick run' : ''}`,
  );
  const { commit, packagesModified } = machine.source;
  console.log(
    `glean at ${commit}${packagesModified ? ' with uncommitted changes in packages/' : ''} (${machine.source.core})`,
  );
  for (const name of flags.names) await runBenchmark(name, flags, machine);
}

main().catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('@glean/')) {
    log("cannot find glean's built output: run `npm run build` first");
  }
  log(error?.stack ?? String(error));
  // No process.exit(): a thread left running must show as a process that does not end.
  process.exitCode = 1;
});
