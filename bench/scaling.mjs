/**
 * The scaling benchmark: a CPU-bound handler (SHA-256 of 64 KiB, fixtures/hash.mjs) on a glean
 * version with `threads` from 1 to the number of CPUs this process may use, with enough calls in
 * flight to keep every thread busy. Each N is compared with N × the one-thread throughput measured
 * in the same round. Raw Workers sharing calls round-robin, the same way, show what the machine
 * itself allows; the in-process call is the work alone. All interleaved round by round.
 */
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadSymbol, release } from '@glean/core';
import { hash } from './fixtures/hash.mjs';
import { timeInFlight } from './measure.mjs';
import { fixed, grouped, times } from './report.mjs';
import { interleave } from './rounds.mjs';
import { median } from './stats.mjs';

export const name = 'scaling';

const PLANS = {
  full: { warmupRounds: 3, rounds: 20, calls: 3000, depthPerThread: 8 },
  quick: { warmupRounds: 1, rounds: 6, calls: 1000, depthPerThread: 8 },
};

const HASH = fileURLToPath(new URL('./fixtures/hash.mjs', import.meta.url));
const RAW_WORKER = fileURLToPath(new URL('./workers/raw-hash.mjs', import.meta.url));

async function gleanContender(threads) {
  const handle = await loadSymbol(HASH, 'hash', { threads, logger: false });
  return { key: `glean-${threads}`, family: 'glean', threads, label: `glean, threads: ${threads}`, call: (seed) => handle(seed), close: () => release(handle) };
}

/** N plain Workers; calls go to them in turn, each with its own id map. */
async function rawContender(threads) {
  const workers = [];
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(RAW_WORKER);
    const pending = new Map();
    worker.on('message', ({ id, value }) => {
      const resolve = pending.get(id);
      pending.delete(id);
      resolve(value);
    });
    await once(worker, 'online');
    workers.push({ worker, pending });
  }
  let nextId = 0;
  const call = (seed) =>
    new Promise((resolve) => {
      const id = ++nextId;
      const { worker, pending } = workers[id % threads];
      pending.set(id, resolve);
      worker.postMessage({ id, seed });
    });
  const close = () => Promise.all(workers.map(({ worker }) => worker.terminate())).then(() => {});
  return { key: `raw-${threads}`, family: 'raw', threads, label: `raw Workers × ${threads}, round-robin`, call, close };
}

function directContender() {
  return { key: 'direct', family: 'direct', threads: 1, label: 'in-process, main thread (the work alone)', call: async (seed) => hash(seed), close: async () => {} };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const cpus = os.availableParallelism();
  const counts = Array.from({ length: cpus }, (_, i) => i + 1);
  const contenders = [];
  try {
    contenders.push(directContender());
    for (const threads of counts) contenders.push(await gleanContender(threads));
    for (const threads of counts) contenders.push(await rawContender(threads));
    for (const contender of contenders) {
      if ((await contender.call(1)) !== hash(1)) throw new Error(`${contender.label}: wrong hash`);
    }
    const depth = plan.depthPerThread * cpus;
    log(`scaling: threads 1..${cpus}, ${depth} in flight, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${plan.calls} calls per contender`);
    const perRound = new Map(contenders.map((c) => [c.key, { callsPerSecond: [], cpu: [] }]));
    await interleave(contenders, plan, async ({ key, call }, round) => {
      const { callsPerSecond, cpuUsPerCall } = await timeInFlight(call, plan.calls, depth);
      if (round < 0) return;
      perRound.get(key).callsPerSecond.push(callsPerSecond);
      perRound.get(key).cpu.push(cpuUsPerCall);
    });
    const results = Object.fromEntries(
      contenders.map(({ key, family, threads }) => {
        const { callsPerSecond, cpu } = perRound.get(key);
        // N threads against N × one thread of the same kind, round by round.
        const one = family === 'direct' ? undefined : perRound.get(`${family}-1`).callsPerSecond;
        const vsLinear = one === undefined ? undefined : median(callsPerSecond.map((value, i) => value / (threads * one[i])));
        const raw = family === 'glean' ? perRound.get(`raw-${threads}`).callsPerSecond : undefined;
        const vsRaw = raw === undefined ? undefined : median(callsPerSecond.map((value, i) => value / raw[i]));
        return [
          key,
          {
            threads,
            medianCallsPerSecond: median(callsPerSecond),
            vsLinear,
            vsRaw,
            cpuUsPerCall: median(cpu),
            minCallsPerSecond: Math.min(...callsPerSecond),
            maxCallsPerSecond: Math.max(...callsPerSecond),
            roundCallsPerSecond: callsPerSecond,
            roundCpuUsPerCall: cpu,
          },
        ];
      }),
    );
    return { plan, cpus, depth, contenders: contenders.map(({ key, label, family, threads }) => ({ key, label, family, threads })), results };
  } finally {
    await Promise.allSettled(contenders.map((contender) => contender.close()));
  }
}

export function tables(figures) {
  const { plan, cpus, depth, contenders, results } = figures;
  return [
    {
      title: `Scaling, SHA-256 of 64 KiB per call, ${depth} calls in flight: calls/s, median of ${plan.rounds} rounds × ${plan.calls} calls (${cpus} CPUs available)`,
      columns: ['contender', 'calls/s', '÷ (N × 1 thread)', '× raw same N', 'round range calls/s', 'CPU µs/call'],
      rows: contenders.map(({ key, label }) => {
        const r = results[key];
        return [label, grouped(r.medianCallsPerSecond), times(r.vsLinear), times(r.vsRaw), `${grouped(r.minCallsPerSecond)}–${grouped(r.maxCallsPerSecond)}`, fixed(r.cpuUsPerCall, 1)];
      }),
      note: [
        '÷ (N × 1 thread): median over rounds of calls/s with N threads over N times calls/s with one thread of the same kind, same round.',
        'CPU µs/call: user + system time of the whole process (host and workers) per call. The host thread shares the CPUs with the workers.',
      ].join('\n'),
    },
  ];
}
