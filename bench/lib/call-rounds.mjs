/**
 * The two round loops of the benchmarks that compare paths of one call against a floor
 * (canary.mjs, traces.mjs): one call at a time, then many in flight, contenders interleaved round by
 * round, each figure taken against the floor's of the same round. A contender may have `enter()` and
 * `leave()`, called around each of its rounds (a subscription made for it alone).
 */
import { fixed, grouped, times } from './format.mjs';
import { timeInFlight, timeSequential } from './measure.mjs';
import { interleave } from './rounds.mjs';
import { latencyOf, pairedRatio, summarize, throughputOf } from './stats.mjs';

/** Runs `measure` for `contender` between its `enter()` and `leave()`. */
function around(measure) {
  return async (contender, round) => {
    contender.enter?.();
    try {
      await measure(contender, round);
    } finally {
      contender.leave?.();
    }
  };
}

/** `plan.sequentialCalls` calls one after another per round: p50, p99 and CPU per call, each against the contender keyed `floor`. */
export async function sequentialRounds(contenders, plan, floor) {
  const { sequentialCalls: count } = plan;
  const into = new Float64Array(count);
  const perRound = new Map(contenders.map((c) => [c.key, { p50: [], p99: [], cpu: [] }]));
  await interleave(
    contenders,
    plan,
    around(async ({ key, call }, round) => {
      const cpu = await timeSequential(call, count, into);
      if (round < 0) return;
      const { p50, p99 } = summarize(into);
      const figures = perRound.get(key);
      figures.p50.push(p50);
      figures.p99.push(p99);
      figures.cpu.push(cpu);
    }),
  );
  const floorRounds = perRound.get(floor);
  return Object.fromEntries(contenders.map(({ key }) => [key, latencyOf(perRound.get(key), floorRounds)]));
}

/** `plan.inFlightCalls` calls with `plan.depth` in flight per round: calls per second and CPU per call, the rate against `floor`'s. */
export async function inFlightRounds(contenders, plan, floor) {
  const perRound = new Map(contenders.map((c) => [c.key, { rate: [], cpu: [] }]));
  await interleave(
    contenders,
    plan,
    around(async ({ key, call }, round) => {
      const { callsPerSecond, cpuUsPerCall } = await timeInFlight(call, plan.inFlightCalls, plan.depth);
      if (round < 0) return;
      perRound.get(key).rate.push(callsPerSecond);
      perRound.get(key).cpu.push(cpuUsPerCall);
    }),
  );
  const floorRate = perRound.get(floor).rate;
  return Object.fromEntries(
    contenders.map(({ key }) => {
      const { rate, cpu } = perRound.get(key);
      return [key, { ...throughputOf(rate, cpu), vsFloor: pairedRatio(rate, floorRate) }];
    }),
  );
}

/**
 * The two tables of {@link sequentialRounds} and {@link inFlightRounds} figures: `subject` opens
 * their titles ("Routing cost"), `floor` names what the ratios are against ("floor", "plain"),
 * `notes` is each table's note.
 */
export function callTables({ plan, contenders, sequential, inFlight }, { subject, floor, notes }) {
  return [
    {
      title: `${subject}: one call at a time, ${plan.rounds} rounds of ${plan.sequentialCalls} calls, µs`,
      columns: ['path', 'p50', 'p99', `p50 vs ${floor}`, `p99 vs ${floor}`, 'CPU µs/call'],
      rows: contenders.map(({ key, label }) => {
        const r = sequential[key];
        return [
          label,
          fixed(r.p50Us, 1),
          fixed(r.p99Us, 1),
          times(r.p50VsFloor),
          times(r.p99VsFloor),
          fixed(r.cpuUsPerCall, 1),
        ];
      }),
      note: notes[0],
    },
    {
      title: `${subject}: ${plan.depth} calls in flight, ${plan.rounds} rounds of ${plan.inFlightCalls} calls`,
      columns: ['path', 'calls/s', `vs ${floor}`, 'CPU µs/call'],
      rows: contenders.map(({ key, label }) => {
        const r = inFlight[key];
        return [label, grouped(r.medianCallsPerSecond), times(r.vsFloor), fixed(r.cpuUsPerCall, 1)];
      }),
      note: notes[1],
    },
  ];
}
