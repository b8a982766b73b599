#!/usr/bin/env node
/**
 * Which compiler glean's host should turn plugin TypeScript into JavaScript with: esbuild (async and
 * sync), oxc-transform, @swc/core (async and sync), amaro and Node's own `module.stripTypeScriptTypes`.
 *
 *   BENCH_COMPILERS_DIR=/tmp/glean-compilers node bench/compilers.mjs [--quick]
 *
 * esbuild comes with the checkout; the others are not glean dependencies and are looked for in the
 * folder `BENCH_COMPILERS_DIR` names first (`npm install --prefix /tmp/glean-compilers oxc-transform
 * @swc/core amaro @oxc-project/runtime`), then in the checkout; one that is missing is skipped with a
 * line saying how to install it. Needs no build of glean. Measures, for each compiler:
 *
 * - cold: a new process loads it and compiles the 200-line module once, several times, interleaved;
 *   time, the process's own CPU, and the CPU of the whole process tree over Node alone (the children
 *   it started included, which Node's own counters leave out);
 * - warm: p50 and p95 of compiling the 200-line and the 20-line modules, one at a time, in a process
 *   that has compiled before, with CPU per compile of the host and of any compiler process;
 * - memory: heap, RSS and threads after loading it and 100 compiles, after forced GC, and the
 *   processes it keeps running, their RSS, whether `stop()` ends them and whether they outlive the host;
 * - features: each compiled and run in a new Node process (lib/compiler-features.mjs).
 *
 * Tables go to stdout, progress to stderr, figures to bench/results/<date>-compilers-node<major>[-quick].json.
 * Run it once on each Node glean supports: the features and some compilers differ by Node version.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { featuresOf, FEATURES } from './lib/compiler-features.mjs';
import { COMPILERS, packageVersion } from './lib/compilers.mjs';
import { fixed, formatTable } from './lib/format.mjs';
import { CPU_TICK_MS, endedChildrenCpuMs } from './lib/processes.mjs';
import { interleave } from './lib/rounds.mjs';
import { median } from './lib/stats.mjs';

export const name = 'compilers';

const PLANS = {
  full: { coldRuns: 9, iterations: 400 },
  quick: { coldRuns: 3, iterations: 200 },
};

const CHILD = fileURLToPath(new URL('./lib/compiler-child.mjs', import.meta.url));

/** Runs the child with `args`; resolves with its JSON line, its wall time and the CPU of its whole tree. */
function runChild(args) {
  return new Promise((resolve, reject) => {
    const cpuBefore = endedChildrenCpuMs();
    const start = performance.now();
    const child = spawn(process.execPath, [...args.node, CHILD, ...args.child], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.setEncoding('utf8');
    // Node's ExperimentalWarning for stripTypeScriptTypes is expected; anything else is shown.
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - start;
      const treeCpuMs = endedChildrenCpuMs() - cpuBefore;
      if (code !== 0) {
        reject(new Error(`compiler-child ${args.child.join(' ')} exited with ${code}: ${err.trim()}`));
        return;
      }
      resolve({ ...JSON.parse(out), wallMs, treeCpuMs });
    });
  });
}

/** Whether process `pid` still runs (a zombie has ended). */
function alive(pid) {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function cold(compilers, plan, log) {
  const runs = Object.fromEntries(['none', ...compilers.map((c) => c.key)].map((key) => [key, []]));
  await interleave(
    ['none', ...compilers.map((c) => c.key)],
    { warmupRounds: 1, rounds: plan.coldRuns },
    async (key, round) => {
      const result = await runChild({ node: [], child: ['cold', key] });
      if (round >= 0) runs[key].push(result);
    },
  );
  log(`cold: ${plan.coldRuns} runs of each done`);
  const nodeAlone = median(runs.none.map((r) => r.treeCpuMs));
  const nodeWall = median(runs.none.map((r) => r.wallMs));
  const summary = {};
  for (const { key } of compilers) {
    const r = runs[key];
    summary[key] = {
      loadMs: median(r.map((x) => x.loadMs)),
      firstCompileMs: median(r.map((x) => x.firstCompileMs)),
      loadCpuMs: median(r.map((x) => x.loadCpuUs / 1000)),
      hostCpuMs: median(r.map((x) => x.hostCpuUs / 1000)),
      compilerProcessCpuMs: median(r.map((x) => x.processCpuMs)),
      treeCpuOverNodeMs: median(r.map((x) => x.treeCpuMs)) - nodeAlone,
      wallOverNodeMs: median(r.map((x) => x.wallMs)) - nodeWall,
      processes: Math.max(...r.map((x) => x.processes)),
      threads: median(r.map((x) => x.threads)),
    };
  }
  return { nodeAloneCpuMs: nodeAlone, nodeAloneWallMs: nodeWall, summary, runs };
}

async function warm(compilers, plan, log) {
  const results = {};
  for (const compiler of compilers) {
    results[compiler.key] = await runChild({
      node: ['--expose-gc'],
      child: ['warm', compiler.key, String(plan.iterations)],
    });
    const exited = await runChild({ node: [], child: ['exit', compiler.key] });
    // The host is gone; a compiler process that outlives it would still be listed after a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    results[compiler.key].outliveHost = exited.pids.filter(alive).length;
    results[compiler.key].hostExitMs = exited.wallMs;
    log(`warm: ${compiler.key} done`);
  }
  return results;
}

async function features(compilers, log) {
  const results = {};
  for (const compiler of compilers) {
    const api = await compiler.load();
    results[compiler.key] = await featuresOf(compiler, api);
    await compiler.stop?.(api);
    log(`features: ${compiler.key} done`);
  }
  return results;
}

/** Runs every measurement; `{ quick, log }` as bench/run.mjs passes them. */
export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const skipped = [];
  const compilers = [];
  for (const compiler of COMPILERS) {
    const why = compiler.missing();
    if (why === undefined) compilers.push(compiler);
    else skipped.push({ key: compiler.key, why });
  }
  for (const { key, why } of skipped) log(`skipping ${key}: ${why}`);
  const versions = Object.fromEntries(
    compilers.map((c) => [c.key, c.package === '' ? process.version : packageVersion(c.package)]),
  );
  return {
    plan,
    cpuTickMs: CPU_TICK_MS,
    compilers: compilers.map(({ key, label, erasableOnly = false }) => ({
      key,
      label,
      erasableOnly,
      version: versions[key],
    })),
    skipped,
    cold: await cold(compilers, plan, log),
    warm: await warm(compilers, plan, log),
    features: await features(compilers, log),
  };
}

const mib = (bytes) => fixed(bytes / 2 ** 20, 1);
const us = (value) => fixed(value, 0);

/** The printed tables. */
export function tables(figures) {
  const { plan, compilers, skipped, cold: c, warm: w, features: f } = figures;
  const label = ({ label: text, version, erasableOnly }) => `${text} ${version}${erasableOnly ? ' ²' : ''}`;
  const erasableNote = compilers.some((compiler) => compiler.erasableOnly)
    ? [
        '² compiles the 200-line module in erasable syntax (enum as an object, no parameter property): it rejects the other',
      ]
    : [];
  const skippedNote = skipped.length === 0 ? [] : skipped.map(({ key, why }) => `skipped ${key}: ${why}`);
  return [
    {
      title: `Cold: a new process loads the compiler and compiles the 200-line module once (medians of ${plan.coldRuns} runs; Node alone: ${fixed(c.nodeAloneWallMs, 0)} ms, ${fixed(c.nodeAloneCpuMs, 0)} ms CPU)`,
      columns: [
        'compiler',
        'load ms',
        'first compile ms',
        'host CPU ms',
        'its processes CPU ms',
        'tree CPU over Node ms',
        'process wall over Node ms',
        'processes',
        'threads',
      ],
      rows: compilers.map((compiler) => {
        const s = c.summary[compiler.key];
        return [
          label(compiler),
          fixed(s.loadMs, 1),
          fixed(s.firstCompileMs, 1),
          fixed(s.hostCpuMs, 1),
          fixed(s.compilerProcessCpuMs, 0),
          fixed(s.treeCpuOverNodeMs, 0),
          fixed(s.wallOverNodeMs, 0),
          String(s.processes),
          String(s.threads),
        ];
      }),
      note: [
        `host CPU: process.cpuUsage() over load and first compile. Its processes: the processes the compiler started, right after the first compile (/proc schedstat). Tree CPU: the whole process and every process it waited for, from start to exit, less Node alone (/proc, ${CPU_TICK_MS} ms ticks).`,
        ...erasableNote,
        ...skippedNote,
      ].join('\n'),
    },
    {
      title: `Warm: one compile at a time, ${plan.iterations} of each module after 20 unmeasured (µs)`,
      columns: [
        'compiler',
        '200 lines p50',
        'p95',
        'host CPU',
        'compiler process CPU',
        '20 lines p50',
        'p95',
        'host CPU',
        'compiler process CPU',
      ],
      rows: compilers.map((compiler) => {
        const { large, small } = w[compiler.key];
        return [
          label(compiler),
          us(large.p50Us),
          us(large.p95Us),
          us(large.hostCpuUs),
          us(large.processCpuUs),
          us(small.p50Us),
          us(small.p95Us),
          us(small.hostCpuUs),
          us(small.processCpuUs),
        ];
      }),
      note: [
        `host CPU: process.cpuUsage(), every thread of the host. Compiler process CPU: its processes' /proc schedstat over all ${plan.iterations} compiles, per compile.`,
        ...erasableNote,
      ].join('\n'),
    },
    {
      title:
        'Memory and processes: after loading the compiler and 100 compiles of the 200-line module, after forced GC',
      columns: [
        'compiler',
        'RSS Δ MiB',
        'heap Δ MiB',
        'external Δ MiB',
        'threads Δ',
        'processes',
        'their RSS MiB',
        'after last use',
        'stop() ends them',
        'outlive the host',
      ],
      rows: compilers.map((compiler) => {
        const r = w[compiler.key];
        return [
          label(compiler),
          mib(r.after.rss - r.before.rss),
          mib(r.after.heapUsed - r.before.heapUsed),
          mib(r.after.external - r.before.external),
          String(r.after.threads - r.before.threads),
          String(r.after.processes),
          mib(r.after.processRss),
          `${r.leftRunning} running`,
          r.stoppable ? (r.processesAfterStop === 0 ? `yes, ${fixed(r.stopMs, 0)} ms` : 'no') : '— (no stop)',
          String(r.outliveHost),
        ];
      }),
    },
    {
      title: `Features, each compiled and run on Node ${process.version}`,
      columns: ['feature', ...compilers.map((compiler) => compiler.key)],
      rows: FEATURES.map((feature) => [
        feature.label,
        ...compilers.map((compiler) => {
          const outcome = f[compiler.key][feature.key];
          return outcome.ok ? (outcome.imports === undefined ? 'yes' : 'yes¹') : 'no';
        }),
      ]),
      note: [
        '¹ its output imports helpers from a package the host must provide: ' +
          [
            ...new Set(
              Object.values(f).flatMap((byFeature) => Object.values(byFeature).flatMap((o) => o.imports ?? [])),
            ),
          ].join(', '),
        ...compilers.flatMap((compiler) =>
          FEATURES.filter((feature) => !f[compiler.key][feature.key].ok).map(
            (feature) => `${compiler.key}, ${feature.key}: ${f[compiler.key][feature.key].why}`,
          ),
        ),
      ].join('\n'),
    },
  ];
}

async function main() {
  const quick = process.argv.includes('--quick');
  const log = (message) => process.stderr.write(`${message}\n`);
  const { machineInfo } = await import('./lib/machine.mjs');
  const { writeResults } = await import('./lib/results.mjs');
  const machine = machineInfo(false);
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB, ${machine.platform}, Node ${machine.node}, load ${machine.loadAverage1m.toFixed(2)}, ${machine.date}${quick ? ', quick run' : ''}`,
  );
  const figures = await run({ quick, log });
  // One file per Node major: the figures of each Node glean supports are kept side by side.
  const path = await writeResults(
    `${name}-node${process.versions.node.split('.')[0]}`,
    machine,
    { quick, pinned: false },
    figures,
  );
  for (const table of tables(figures)) console.log(`\n${formatTable(table)}`);
  console.log(`\nfigures written to ${path}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`${error?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
