/**
 * The scaling benchmark: a CPU-bound handler (SHA-256, fixtures/hash.mjs) on a glean version with
 * `threads` from 1 to the number of CPUs this process may use, with enough calls in flight to keep
 * every thread busy. Each N is compared with N × the one-thread throughput measured in the same
 * round. Raw Workers sharing calls round-robin, the same way, show what the machine itself allows;
 * the in-process call is the work alone. All interleaved round by round, for two handler sizes:
 * 64 KiB hashed per call (tens of µs, where the cost of the hop to a thread still shows) and 1 MiB
 * (under a millisecond, a CPU-heavy request handler).
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadSymbol, release } from '@glean/core';
import { hash } from './fixtures/hash.mjs';
import { timeInFlight } from './lib/measure.mjs';
import { fixed, grouped, times } from './lib/format.mjs';
import { startRawPort } from './lib/raw-port.mjs';
import { interleave } from './lib/rounds.mjs';
import { median, pairedRatio, throughputOf } from './lib/stats.mjs';

export const name = 'scaling';

/** `calls` per round is for 64 KiB; a larger handler gets proportionally fewer, so rounds take about as long. */
const PLANS = {
  full: { warmupRounds: 3, rounds: 20, calls: 3000, depthPerThread: 8 },
  quick: { warmupRounds: 1, rounds: 6, calls: 1000, depthPerThread: 8 },
};

/** KiB hashed per call. */
const SIZES = [64, 1024];

const HASH = fileURLToPath(new URL('./fixtures/hash.mjs', import.meta.url));

async function gleanContender(threads) {
  const handle = await loadSymbol(HASH, 'hash', { threads, logger: false });
  return {
    key: `glean-${threads}`,
    family: 'glean',
    threads,
    label: `glean, threads: ${threads}`,
    call: (seed, kib) => handle(seed, kib),
    close: () => release(handle),
  };
}

/** N plain Workers (lib/raw-port.mjs); calls go to them in turn, each with its own id map. */
async function rawContender(threads) {
  const port = await startRawPort(HASH, 'hash', { threads });
  return {
    key: `raw-${threads}`,
    family: 'raw',
    threads,
    label: `raw Workers × ${threads}, round-robin`,
    call: (seed, kib) => port.call([seed, kib]),
    close: port.close,
  };
}

function directContender() {
  return {
    key: 'direct',
    family: 'direct',
    threads: 1,
    label: 'in-process, main thread (the work alone)',
    call: async (seed, kib) => hash(seed, kib),
    close: async () => {},
  };
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
      for (const kib of SIZES)
        if ((await contender.call(1, kib)) !== hash(1, kib))
          throw new Error(`${contender.label}: wrong hash of ${kib} KiB`);
    }
    const depth = plan.depthPerThread * cpus;
    const sizes = [];
    for (const kib of SIZES) {
      const calls = Math.max(100, Math.round((plan.calls * 64) / kib));
      log(
        `scaling: ${kib} KiB per call, threads 1..${cpus}, ${depth} in flight, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${calls} calls per contender`,
      );
      const perRound = new Map(contenders.map((c) => [c.key, { callsPerSecond: [], cpu: [] }]));
      await interleave(contenders, plan, async ({ key, call }, round) => {
        const { callsPerSecond, cpuUsPerCall } = await timeInFlight((seed) => call(seed, kib), calls, depth);
        if (round < 0) return;
        perRound.get(key).callsPerSecond.push(callsPerSecond);
        perRound.get(key).cpu.push(cpuUsPerCall);
      });
      sizes.push({ kib, calls, results: summarize(contenders, perRound) });
    }
    return {
      plan,
      cpus,
      depth,
      contenders: contenders.map(({ key, label, family, threads }) => ({ key, label, family, threads })),
      sizes,
    };
  } finally {
    await Promise.allSettled(contenders.map((contender) => contender.close()));
  }
}

/** Per contender: median calls/s, its ratio to N × one thread and to raw Workers (round by round), CPU per call. */
function summarize(contenders, perRound) {
  return Object.fromEntries(
    contenders.map(({ key, family, threads }) => {
      const { callsPerSecond, cpu } = perRound.get(key);
      // N threads against N × one thread of the same kind, round by round.
      const one = family === 'direct' ? undefined : perRound.get(`${family}-1`).callsPerSecond;
      const vsLinear =
        one === undefined ? undefined : median(callsPerSecond.map((value, i) => value / (threads * one[i])));
      const raw = family === 'glean' ? perRound.get(`raw-${threads}`).callsPerSecond : undefined;
      const vsRaw = raw === undefined ? undefined : pairedRatio(callsPerSecond, raw);
      return [key, { threads, vsLinear, vsRaw, ...throughputOf(callsPerSecond, cpu) }];
    }),
  );
}

export function tables(figures) {
  const { plan, cpus, depth, contenders, sizes } = figures;
  return sizes.map(({ kib, calls, results }) => ({
    title: `Scaling, SHA-256 of ${kib} KiB per call, ${depth} calls in flight: calls/s, median of ${plan.rounds} rounds × ${calls} calls (${cpus} CPUs available)`,
    columns: ['contender', 'calls/s', '÷ (N × 1 thread)', '× raw same N', 'round range calls/s', 'CPU µs/call'],
    rows: contenders.map(({ key, label }) => {
      const r = results[key];
      return [
        label,
        grouped(r.medianCallsPerSecond),
        times(r.vsLinear),
        times(r.vsRaw),
        `${grouped(r.minCallsPerSecond)}–${grouped(r.maxCallsPerSecond)}`,
        fixed(r.cpuUsPerCall, 1),
      ];
    }),
    note: [
      '÷ (N × 1 thread): median over rounds of calls/s with N threads over N times calls/s with one thread of the same kind, same round.',
      'CPU µs/call: user + system time of the whole process (host and workers) per call. The host thread shares the CPUs with the workers.',
    ].join('\n'),
  }));
}
