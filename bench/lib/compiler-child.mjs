/**
 * One compiler measured in a process of its own (run by bench/compilers.mjs):
 *
 *   node bench/lib/compiler-child.mjs cold <compiler>|none
 *   node --expose-gc bench/lib/compiler-child.mjs warm <compiler> <iterations>
 *   node bench/lib/compiler-child.mjs exit <compiler>
 *
 * `cold`: loads the compiler and compiles the 200-line module once, timing both, with this process's
 * CPU and that of the processes it started (`none` only starts Node, for the baseline). `warm`: heap,
 * RSS, threads and processes before loading and after 100 compiles; then `iterations` timed compiles
 * of each module, one at a time; then what is left running, and whether `stop()` ends it. `exit`:
 * compiles once and ends without stopping the compiler, printing the processes it leaves to its parent
 * to look for afterwards. Each writes one JSON line to stdout.
 */
import { performance } from 'node:perf_hooks';
import {
  LARGE_MODULE,
  LARGE_MODULE_ERASABLE,
  MODULE_COMPILER_OPTIONS,
  SMALL_MODULE,
} from '../fixtures/typescript-modules.mjs';
import { compilerByKey } from './compilers.mjs';
import { cpuSince } from './cpu.mjs';
import { descendants, threadCount } from './processes.mjs';
import { quantile } from './stats.mjs';
import { collectedMemory } from './collected.mjs';

const [mode, key, iterationsText] = process.argv.slice(2);

const request = (name) => ({ file: `/plugins/${name}.ts`, format: 'esm', compilerOptions: MODULE_COMPILER_OPTIONS });
const LARGE = request('large');
const SMALL = request('small');

/** The 200-line module as `compiler` can take it. */
const largeFor = (compiler) => (compiler.erasableOnly ? LARGE_MODULE_ERASABLE : LARGE_MODULE);

const sum = (values) => values.reduce((a, b) => a + b, 0);
/** Heap and RSS after collecting until nothing more goes (lib/collected.mjs). */
async function collected() {
  const { heapUsed, rss, external } = await collectedMemory();
  return { heapUsed, rss, external };
}

/** The compiler's processes after `stop()`: polls until they are gone, for up to 2 s. */
async function stopped(compiler, api) {
  if (compiler.stop === undefined) return { stoppable: false };
  const start = performance.now();
  await compiler.stop(api);
  while (descendants().length > 0 && performance.now() - start < 2000) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { stoppable: true, processesAfterStop: descendants().length, stopMs: performance.now() - start };
}

async function cold(compiler) {
  if (compiler === undefined) return {};
  const cpu = process.cpuUsage();
  const start = performance.now();
  const api = await compiler.load();
  const loaded = performance.now();
  const loadCpuUs = cpuSince(cpu);
  await compiler.compile(api, largeFor(compiler), LARGE);
  const compiled = performance.now();
  const hostCpuUs = cpuSince(cpu);
  const started = descendants();
  const figures = {
    loadMs: loaded - start,
    firstCompileMs: compiled - loaded,
    loadCpuUs,
    hostCpuUs,
    processes: started.length,
    processCpuMs: sum(started.map((p) => p.cpuMs ?? 0)),
    threads: threadCount(),
  };
  // Waited for here, so that the parent's count of its ended children's CPU includes theirs.
  await stopped(compiler, api);
  return figures;
}

/** `iterations` compiles of `source`, one at a time, after 20 unmeasured: latency µs and CPU µs per compile. */
async function timed(compiler, api, source, req, iterations) {
  for (let i = 0; i < 20; i++) await compiler.compile(api, source, req);
  const samples = new Float64Array(iterations);
  const cpu = process.cpuUsage();
  const processCpu = sum(descendants().map((p) => p.cpuMs ?? 0));
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await compiler.compile(api, source, req);
    samples[i] = (performance.now() - start) * 1000;
  }
  const hostCpuUs = cpuSince(cpu) / iterations;
  const processCpuUs = ((sum(descendants().map((p) => p.cpuMs ?? 0)) - processCpu) * 1000) / iterations;
  samples.sort();
  return { p50Us: quantile(samples, 0.5), p95Us: quantile(samples, 0.95), hostCpuUs, processCpuUs, iterations };
}

async function warm(compiler, iterations) {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  const before = { ...(await collected()), threads: threadCount(), processes: descendants().length };
  const api = await compiler.load();
  for (let i = 0; i < 100; i++) await compiler.compile(api, largeFor(compiler), LARGE);
  const started = descendants();
  const after = {
    ...(await collected()),
    threads: threadCount(),
    processes: started.length,
    processRss: sum(started.map((p) => p.rss ?? 0)),
    commands: started.map((p) => p.command),
  };
  const large = await timed(compiler, api, largeFor(compiler), LARGE, iterations);
  const small = await timed(compiler, api, SMALL_MODULE, SMALL, iterations);
  const leftRunning = descendants().length;
  return { before, after, large, small, leftRunning, ...(await stopped(compiler, api)) };
}

async function exitWithoutStop(compiler) {
  const api = await compiler.load();
  await compiler.compile(api, SMALL_MODULE, SMALL);
  return { pids: descendants().map((p) => p.pid) };
}

async function main() {
  const compiler = key === 'none' ? undefined : compilerByKey(key);
  let figures;
  if (mode === 'cold') figures = await cold(compiler);
  else if (mode === 'warm' && compiler !== undefined) figures = await warm(compiler, Number(iterationsText));
  else if (mode === 'exit' && compiler !== undefined) figures = await exitWithoutStop(compiler);
  else
    throw new Error('usage: compiler-child.mjs cold <compiler>|none | warm <compiler> <iterations> | exit <compiler>');
  process.stdout.write(`${JSON.stringify({ mode, key, ...figures })}\n`);
}

main().catch((error) => {
  process.stderr.write(`compiler-child ${mode} ${key}: ${error?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
