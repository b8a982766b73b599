/**
 * The traces benchmark: what the glean.call tracing channel and @glean/core/metrics add to a call.
 * One Glean serves one id over the add fixture (one thread), and each round calls each contender in
 * turn (interleaved, lib/rounds.mjs); a contender's subscription is made just before its round and
 * ended just after, so the others run with nothing subscribed:
 *
 * - `raw`: a raw MessagePort to a Worker running the same function (the floor under any call);
 * - `plain`: the live handle with nothing subscribed to glean.call (what every call costs today);
 * - `traced`: the same with a subscriber on all five glean.call channels that reads the context;
 * - `metrics`: the same with registerMetrics() in a prom-client Registry (on no channel: it counts through
 *   a CallObserver, where the handle counts each call).
 *
 * With `BENCH_BASELINE_CORE=<path of another build's packages/core/dist/index.js>`, one more contender,
 * `before`: the same call through that build's Glean (a build without the channels, docs/benchmarks.md
 * says how to make one), in the same process and the same rounds, so "nothing subscribed" is compared
 * with what a call cost before there was anything to subscribe to.
 *
 * One call at a time (latency p50/p99 per round, median over rounds, ratio to `plain` taken round by
 * round) and 64 in flight (calls per second), with CPU per call for both.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFile, writeFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { Glean, GleanChannel } from '@glean/core';
import { registerMetrics } from '@glean/core/metrics';
import { callTables, inFlightRounds, sequentialRounds } from './lib/call-rounds.mjs';
import { startRawPort } from './lib/raw-port.mjs';
import { scratchFolder } from './lib/scratch.mjs';

export const name = 'traces';

const PLANS = {
  full: { warmupRounds: 3, rounds: 30, sequentialCalls: 1000, inFlightCalls: 10_000, depth: 64 },
  quick: { warmupRounds: 2, rounds: 8, sequentialCalls: 500, inFlightCalls: 5_000, depth: 64 },
};

const FLOOR = 'plain';
const FIXTURE = fileURLToPath(new URL('./fixtures/add.mjs', import.meta.url));

/** A subscriber as a tracer would have: it reads the fields and keeps the thread, on every event. */
function tracer() {
  let seen = 0;
  const read = (context) => {
    if (context.id !== undefined && context.threadId !== -1) seen++;
  };
  return { start: read, end: read, asyncStart: read, asyncEnd: read, error: read, seen: () => seen };
}

async function startContenders(scratch) {
  await scratch.write('add.mjs', await readFile(FIXTURE, 'utf8'));
  await writeFile(
    scratch.file('glean.json'),
    JSON.stringify([{ id: 'Add', file: 'add.mjs', name: 'add', version: '1' }]),
  );
  const glean = new Glean(scratch.file('glean.json'), { watch: false, logger: false, prewarm: false });
  await glean.loadConfig();
  const add = await glean.reloadAndWatch('Add');
  const baseline = await startBaseline(scratch);
  const raw = await startRawPort(FIXTURE, 'add');
  const calls = tracingChannel(GleanChannel.CALL);
  const subscriber = tracer();
  const registry = new Registry();
  let metrics;
  const contenders = [
    { key: 'raw', label: 'raw MessagePort + id map (the floor under any call)', call: (i) => raw.call([i, 1]) },
    ...(baseline === undefined ? [] : [baseline.contender]),
    { key: FLOOR, label: 'glean, nothing subscribed to glean.call', call: (i) => add(i, 1) },
    {
      key: 'traced',
      label: 'glean, a subscriber on glean.call',
      call: (i) => add(i, 1),
      enter: () => calls.subscribe(subscriber),
      leave: () => calls.unsubscribe(subscriber),
    },
    {
      key: 'metrics',
      label: 'glean, registerMetrics() in a prom-client Registry',
      call: (i) => add(i, 1),
      enter: () => {
        metrics = registerMetrics(glean, { registry });
      },
      leave: () => metrics.unregister(),
    },
  ];
  const close = async () => {
    await baseline?.glean.close();
    await glean.close();
    await raw.close();
  };
  return { contenders, close, subscriber, registry };
}

/** The same id through the Glean of the build BENCH_BASELINE_CORE names, if it names one. */
async function startBaseline(scratch) {
  const path = process.env.BENCH_BASELINE_CORE;
  if (path === undefined || path === '') return undefined;
  const { Glean: BaselineGlean } = await import(pathToFileURL(path).href);
  const glean = new BaselineGlean(scratch.file('glean.json'), { watch: false, logger: false, prewarm: false });
  await glean.loadConfig();
  const add = await glean.reloadAndWatch('Add');
  return {
    glean,
    contender: { key: 'before', label: 'glean before the channels (BENCH_BASELINE_CORE)', call: (i) => add(i, 1) },
  };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const scratch = await scratchFolder('traces');
  const { contenders, close, subscriber } = await startContenders(scratch);
  try {
    log(`traces: sequential, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${plan.sequentialCalls} calls`);
    const sequential = await sequentialRounds(contenders, plan, FLOOR);
    log(`traces: ${plan.depth} in flight, ${plan.rounds} rounds of ${plan.inFlightCalls} calls`);
    const inFlight = await inFlightRounds(contenders, plan, FLOOR);
    if (subscriber.seen() === 0) throw new Error('traces: the subscriber saw no call');
    return { plan, contenders: contenders.map(({ key, label }) => ({ key, label })), sequential, inFlight };
  } finally {
    await close();
    await scratch.remove();
  }
}

export function tables(figures) {
  return callTables(figures, {
    subject: 'Tracing and metrics cost',
    floor: 'plain',
    notes: [
      'Ratios are taken round by round against the plain glean call measured moments before or after, then the median over rounds.',
      'Each subscription is made just before its contender’s round and ended after it: the plain and raw rows run with nothing subscribed.',
    ],
  });
}
