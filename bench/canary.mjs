/**
 * The canary benchmark: what routing adds to a call. One Glean serves three ids over the same small
 * plugin code (each id its own version and thread), and each round calls each contender in turn
 * (interleaved, lib/rounds.mjs):
 *
 * - `plain`: an id with no canary, through its live handle (the floor);
 * - `plain, key`: the same id through `withOptions(handle, { key })`, the options path with nothing to route;
 * - `canary, key`: an id with a canary at weight 50, a fixed key (hashed on every call; it always lands on one side);
 * - `canary, random`: the same id without a key (half its calls on each version, counted in both windows);
 * - `canary 5 %, random`: another id whose canary is at weight 5, without a key.
 *
 * One call at a time (latency p50/p99 per round, median over rounds, ratio to `plain` taken round by
 * round) and 64 in flight (calls per second), with CPU per call for both.
 */
import { writeFile } from 'node:fs/promises';
import { Glean, withOptions } from '@glean/core';
import { callTables, inFlightRounds, sequentialRounds } from './lib/call-rounds.mjs';
import { scratchFolder } from './lib/scratch.mjs';

export const name = 'canary';

const PLANS = {
  full: { warmupRounds: 3, rounds: 30, sequentialCalls: 1000, inFlightCalls: 10_000, depth: 64 },
  quick: { warmupRounds: 2, rounds: 8, sequentialCalls: 500, inFlightCalls: 5_000, depth: 64 },
};

const FLOOR = 'plain';

const PLUGIN = (tag) => `export function add(a, b) { return a + b + ${tag}; }\n`;

/** Analysis far apart, and a p99 factor out of reach: the benchmark measures routing, nothing is rolled back. */
const CANARY = { weight: 50, intervalMs: 600_000, p99Factor: 1000 };

async function startGlean(scratch) {
  for (const tag of [0, 1, 2, 3, 4]) await scratch.write(`v${tag}.mjs`, PLUGIN(tag));
  const config = [
    { id: 'Plain', file: 'v0.mjs', name: 'add', version: '1' },
    {
      id: 'Canaried',
      file: 'v1.mjs',
      name: 'add',
      version: '1',
      canary: { file: 'v2.mjs', version: '2', ...CANARY },
    },
    {
      id: 'Canaried5',
      file: 'v3.mjs',
      name: 'add',
      version: '1',
      canary: { file: 'v4.mjs', version: '2', ...CANARY, weight: 5 },
    },
  ];
  await writeFile(scratch.file('glean.json'), JSON.stringify(config));
  const glean = new Glean(scratch.file('glean.json'), { watch: false, logger: false, prewarm: false });
  await glean.loadConfig();
  const plain = await glean.reloadAndWatch('Plain');
  const canaried = await glean.reloadAndWatch('Canaried');
  const canaried5 = await glean.reloadAndWatch('Canaried5');
  const plainKeyed = withOptions(plain, { key: 'user-0042' });
  const canaryKeyed = withOptions(canaried, { key: 'user-0042' });
  const contenders = [
    { key: FLOOR, label: 'no canary, live handle (the floor)', call: (i) => plain(i, 1) },
    { key: 'plain-key', label: 'no canary, withOptions({ key })', call: (i) => plainKeyed(i, 1) },
    { key: 'canary-key', label: 'canary at 50 %, withOptions({ key }): one side', call: (i) => canaryKeyed(i, 1) },
    { key: 'canary-random', label: 'canary at 50 %, no key: half on each side', call: (i) => canaried(i, 1) },
    { key: 'canary-5-random', label: 'canary at 5 %, no key: 1 call in 20 on it', call: (i) => canaried5(i, 1) },
  ];
  return { glean, contenders };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const scratch = await scratchFolder('canary');
  const { glean, contenders } = await startGlean(scratch);
  try {
    log(`canary: sequential, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${plan.sequentialCalls} calls`);
    const sequential = await sequentialRounds(contenders, plan, FLOOR);
    log(`canary: ${plan.depth} in flight, ${plan.rounds} rounds of ${plan.inFlightCalls} calls`);
    const inFlight = await inFlightRounds(contenders, plan, FLOOR);
    return { plan, contenders: contenders.map(({ key, label }) => ({ key, label })), sequential, inFlight };
  } finally {
    await glean.close();
    await scratch.remove();
  }
}

export function tables(figures) {
  return callTables(figures, {
    subject: 'Routing cost',
    floor: 'floor',
    notes: [
      'Ratios are taken round by round against the floor measured moments before or after, then the median over rounds.',
      'The canary rows spread their calls over two versions (two threads) when unkeyed; the keyed row keeps to one thread, as the floor does.',
    ],
  });
}
