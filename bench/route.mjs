#!/usr/bin/env node
/**
 * The route benchmark: what choosing a version costs a call while its id has a canary
 * (`toCanary` in packages/core/src/rollout/route.ts), against a bare `Math.random() < w`.
 *
 *   node bench/route.mjs [--quick]
 *
 * Runs from built output (`npm run build` first). Each contender makes the same number of
 * decisions in a tight loop over 1 024 distinct keys of 36 characters (UUIDs, as a user or request
 * id would be), rounds interleaved; the figure is the median over rounds of ns per decision, with
 * the loop itself (reading the key, counting) measured on its own as the floor. Time is the
 * process's CPU time, with the wall clock beside it. Garbage collections that start during the keyed
 * rounds show whether routing allocates: none is expected (a bare `Math.random()` in such a loop
 * allocates a number per call on Node 20 and 24, and collects about once per 130 000 calls).
 * Also exports `name`, `run` and `tables`, the shape bench/run.mjs takes its benchmarks in.
 */
import { randomUUID } from 'node:crypto';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fixed, formatTable } from './lib/format.mjs';
import { median } from './lib/stats.mjs';

const { routeBucket, routeSeed, toCanary } = await import(
  new URL('../packages/core/dist/rollout/route.js', import.meta.url).href
);

export const name = 'route';

const PLANS = {
  full: { rounds: 15, decisions: 5_000_000 },
  quick: { rounds: 5, decisions: 1_000_000 },
};

const WEIGHT = 5;
const SEED = routeSeed('FooHandlerID', '2.0');
// Flat strings, as a header or a parsed body gives them (randomUUID() returns a rope, slower to read).
const KEYS = Array.from({ length: 1024 }, () => Buffer.from(randomUUID(), 'latin1').toString('latin1'));

/** Each contender: one decision per iteration, over the same keys; each returns how many went to the canary. */
const CONTENDERS = [
  {
    key: 'loop',
    label: 'the loop alone (read a key, count): the floor',
    run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (KEYS[i & 1023].length === 36) hits++;
      return hits;
    },
  },
  {
    key: 'random',
    label: 'bare Math.random() * 100 < w',
    run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (KEYS[i & 1023].length === 36 && Math.random() * 100 < WEIGHT) hits++;
      return hits;
    },
  },
  {
    key: 'keyless',
    label: 'toCanary(w, seed, undefined): no key, random per call',
    run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (KEYS[i & 1023].length === 36 && toCanary(WEIGHT, SEED, undefined)) hits++;
      return hits;
    },
  },
  {
    key: 'keyed',
    label: 'toCanary(w, seed, key): a 36-character key, hashed',
    run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (toCanary(WEIGHT, SEED, KEYS[i & 1023])) hits++;
      return hits;
    },
  },
  {
    key: 'bucket',
    label: 'routeBucket(seed, key) alone',
    run(n) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (routeBucket(SEED, KEYS[i & 1023]) < 500) hits++;
      return hits;
    },
  },
];

/**
 * Runs `contender.run(n)`: CPU ns per decision (this process's user and system time, which a busy
 * machine's other processes do not inflate as they do the wall clock), wall ns per decision, and
 * the canary share it saw (a check that it decided).
 */
function timed(contender, n) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const hits = contender.run(n);
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  return { nsPerDecision: ((used.user + used.system) * 1000) / n, wallNsPerDecision: wallNs / n, share: hits / n };
}

export async function run({ quick = false, log = () => {} } = {}) {
  const plan = quick ? PLANS.quick : PLANS.full;
  // Garbage collections are told by their start time: an entry may be delivered a while after it.
  const collections = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collections.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  // Warm up: every contender optimised before the first timed round.
  for (const contender of CONTENDERS) timed(contender, plan.decisions / 5);
  const rounds = Object.fromEntries(CONTENDERS.map((c) => [c.key, []]));
  const shares = Object.fromEntries(CONTENDERS.map((c) => [c.key, []]));
  const walls = Object.fromEntries(CONTENDERS.map((c) => [c.key, []]));
  const keyedSpans = [];
  for (let round = 0; round < plan.rounds; round++) {
    log(`route: round ${round + 1} of ${plan.rounds}`);
    for (const contender of CONTENDERS) {
      const from = performance.now();
      const { nsPerDecision, wallNsPerDecision, share } = timed(contender, plan.decisions);
      if (contender.key === 'keyed') keyedSpans.push([from, performance.now()]);
      rounds[contender.key].push(nsPerDecision);
      shares[contender.key].push(share);
      walls[contender.key].push(wallNsPerDecision);
      // Lets the observer take what the round collected.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const keyedCollections = collections.filter((at) => keyedSpans.some(([from, to]) => at >= from && at <= to)).length;
  const floor = median(rounds.loop);
  return {
    decisionsPerRound: plan.decisions,
    weight: WEIGHT,
    keyLength: 36,
    contenders: CONTENDERS.map((c) => ({
      key: c.key,
      label: c.label,
      nsPerDecision: median(rounds[c.key]),
      nsOverLoop: median(rounds[c.key]) - floor,
      wallNsPerDecision: median(walls[c.key]),
      share: median(shares[c.key]),
      roundNsPerDecision: rounds[c.key],
      roundWallNsPerDecision: walls[c.key],
    })),
    keyedRoundsGarbageCollections: keyedCollections,
    allRoundsGarbageCollections: collections.length,
  };
}

export function tables(figures) {
  return [
    {
      title: `Route: CPU ns per decision at weight ${figures.weight}, ${figures.decisionsPerRound.toLocaleString('en-US')} decisions a round (median of rounds)`,
      columns: ['contender', 'ns/decision', 'wall ns', 'over the loop', 'canary share'],
      rows: figures.contenders.map((c) => [
        c.label,
        fixed(c.nsPerDecision, 1),
        fixed(c.wallNsPerDecision, 1),
        c.key === 'loop' ? '—' : fixed(c.nsOverLoop, 1),
        c.key === 'loop' ? '—' : `${fixed(c.share * 100, 2)} %`,
      ]),
      note: `garbage collections started during the keyed rounds: ${figures.keyedRoundsGarbageCollections} (all rounds: ${figures.allRoundsGarbageCollections})`,
    },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await run({ quick: process.argv.includes('--quick'), log: (m) => process.stderr.write(`${m}\n`) });
  console.log(`node ${process.version}`);
  for (const table of tables(figures)) console.log(`\n${formatTable(table)}`);
}
