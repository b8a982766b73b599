/**
 * The calls benchmark: what one call to a plugin function costs on each path, one at a time
 * (latency) and with many in flight (throughput). Contenders are interleaved round by round in
 * one process, so a slow spell of the machine hits them all alike instead of one of them.
 */
import { FLOOR, closeContenders, startContenders } from './contenders.mjs';
import { timeInFlight, timeSequential } from './lib/measure.mjs';
import { grouped, fixed, times } from './lib/format.mjs';
import { interleave } from './lib/rounds.mjs';
import { latencyOf, pairedRatio, summarize, throughputOf } from './lib/stats.mjs';

export const name = 'calls';

/** Rounds and calls per round; the warm-up rounds run the same loops and are thrown away. */
const PLANS = {
  full: { warmupRounds: 3, rounds: 30, sequentialCalls: 1000, inFlightCalls: 10_000, depth: 64 },
  quick: { warmupRounds: 2, rounds: 8, sequentialCalls: 500, inFlightCalls: 5_000, depth: 64 },
};

/** Runs both phases and returns the figures (plain data, written as JSON). */
export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const contenders = await startContenders();
  try {
    log(
      `calls: sequential, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${plan.sequentialCalls} calls per contender`,
    );
    const sequential = await runSequential(contenders, plan);
    log(
      `calls: ${plan.depth} in flight, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${plan.inFlightCalls} calls per contender`,
    );
    const inFlight = await runInFlight(contenders, plan);
    return {
      plan,
      floor: FLOOR,
      contenders: contenders.map(({ key, label }) => ({ key, label })),
      sequential,
      inFlight,
    };
  } finally {
    await closeContenders(contenders);
  }
}

/**
 * Each round gives each contender a p50 and a p99; the reported figures are their medians over
 * rounds, so one round spoilt by the machine (another process, a VM steal) does not decide a p99.
 * The pooled percentiles over every call are kept in the JSON as well.
 */
async function runSequential(contenders, plan) {
  const { rounds, sequentialCalls: count } = plan;
  const samples = new Map(contenders.map((c) => [c.key, new Float64Array(rounds * count)]));
  const perRound = new Map(contenders.map((c) => [c.key, { p50: [], p99: [], cpu: [] }]));
  const scratch = new Float64Array(count);
  await interleave(contenders, plan, async ({ key, call }, round) => {
    if (round < 0) {
      await timeSequential(call, count, scratch);
      return;
    }
    const into = samples.get(key);
    const cpu = await timeSequential(call, count, into, round * count);
    const { p50, p99 } = summarize(into.subarray(round * count, (round + 1) * count));
    const figures = perRound.get(key);
    figures.p50.push(p50);
    figures.p99.push(p99);
    figures.cpu.push(cpu);
  });
  const floor = perRound.get(FLOOR);
  return Object.fromEntries(
    contenders.map(({ key }) => {
      const pooled = summarize(samples.get(key));
      return [
        key,
        {
          ...latencyOf(perRound.get(key), floor),
          pooled: { p50Us: pooled.p50, p99Us: pooled.p99, minUs: pooled.min, maxUs: pooled.max, calls: pooled.count },
        },
      ];
    }),
  );
}

/** Calls per second with `plan.depth` calls in flight, per round; the median over rounds is reported. */
async function runInFlight(contenders, plan) {
  const { inFlightCalls, depth } = plan;
  const perRound = new Map(contenders.map((c) => [c.key, { callsPerSecond: [], cpu: [] }]));
  await interleave(contenders, plan, async ({ key, call }, round) => {
    const { callsPerSecond, cpuUsPerCall } = await timeInFlight(call, inFlightCalls, depth);
    if (round < 0) return;
    perRound.get(key).callsPerSecond.push(callsPerSecond);
    perRound.get(key).cpu.push(cpuUsPerCall);
  });
  const floor = perRound.get(FLOOR);
  return Object.fromEntries(
    contenders.map(({ key }) => {
      const { callsPerSecond, cpu } = perRound.get(key);
      return [
        key,
        { depth, vsFloor: pairedRatio(callsPerSecond, floor.callsPerSecond), ...throughputOf(callsPerSecond, cpu) },
      ];
    }),
  );
}

/** The figures as printable tables: latency first, then throughput. */
export function tables(figures) {
  const { plan, contenders, sequential, inFlight } = figures;
  const note = [
    '× floor: median over rounds of the ratio to the floor measured in the same round.',
    'CPU µs/call: user + system time of the whole process (host and worker threads) per call, median over rounds.',
  ].join('\n');
  const latency = {
    title: `One call at a time: µs per call, medians of the per-round p50 and p99 (${plan.rounds} rounds × ${plan.sequentialCalls} calls after ${plan.warmupRounds} warm-up)`,
    columns: ['contender', 'p50 µs', 'p99 µs', 'p50 × floor', 'p99 × floor', 'round p50 range µs', 'CPU µs/call'],
    rows: contenders.map(({ key, label }) => {
      const s = sequential[key];
      const range = `${fixed(Math.min(...s.roundP50Us), 1)}–${fixed(Math.max(...s.roundP50Us), 1)}`;
      return [
        label,
        fixed(s.p50Us, 1),
        fixed(s.p99Us, 1),
        times(s.p50VsFloor),
        times(s.p99VsFloor),
        range,
        fixed(s.cpuUsPerCall, 1),
      ];
    }),
    note,
  };
  const throughput = {
    title: `${plan.depth} calls in flight: calls/s, median of ${plan.rounds} rounds × ${plan.inFlightCalls} calls (higher is better)`,
    columns: ['contender', 'calls/s', '× floor', 'round range calls/s', 'CPU µs/call'],
    rows: contenders.map(({ key, label }) => {
      const t = inFlight[key];
      return [
        label,
        grouped(t.medianCallsPerSecond),
        times(t.vsFloor),
        `${grouped(t.minCallsPerSecond)}–${grouped(t.maxCallsPerSecond)}`,
        fixed(t.cpuUsPerCall, 1),
      ];
    }),
    note,
  };
  return [latency, throughput];
}
