/**
 * The handover benchmark: what a `handover: "drain-first"` swap costs against `"overlap"` (the
 * default), in the same run, rounds interleaved.
 *
 * Each contender is a `Glean` of its own on a scratch folder holding one small plugin whose
 * `dispose` closes a TCP server it listens on (on an ephemeral port, so both contenders can run it;
 * under drain-first the port could as well be fixed). A swap bumps the entry's `version` text and
 * calls `reloadConfig()` while a caller keeps exactly one call in flight through a following handle
 * (a call made as soon as the previous one answered). Measured per swap: `reloadConfig()` until it
 * resolves; the slowest call of the swap (from the moment it was made until answered: under
 * drain-first the calls made during the handover wait for the old version's drain, cleanup and end,
 * and the new version's start); and the calls answered during the swap. Between swaps the process
 * waits until it is idle (lib/quiet.mjs).
 */
import { writeFile } from 'node:fs/promises';
import { Glean } from '@glean/core';
import { now } from './lib/clock.mjs';
import { fixed } from './lib/format.mjs';
import { quiet } from './lib/quiet.mjs';
import { interleave } from './lib/rounds.mjs';
import { scratchFolder } from './lib/scratch.mjs';
import { median, pairedDifference, summarize } from './lib/stats.mjs';

export const name = 'handover';

const PLANS = {
  full: { warmupRounds: 3, rounds: 40 },
  quick: { warmupRounds: 1, rounds: 10 },
};

const CONTENDERS = [
  { key: 'overlap', label: 'overlap (default): the new version starts beside the old' },
  { key: 'drain-first', label: 'drain-first: the old version ends, then the new one starts' },
];

const PLUGIN = `
import { createServer } from 'node:net';
const server = createServer((socket) => socket.end());
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
export function which() { return 1; }
export async function dispose() { await new Promise((resolve) => server.close(resolve)); }
`;

async function startContender(spec) {
  const scratch = await scratchFolder(`handover-${spec.key}`);
  await scratch.write('plugin.mjs', PLUGIN);
  let version = 0;
  const writeConfig = () =>
    writeFile(
      scratch.file('glean.json'),
      JSON.stringify([{ id: 'P', file: 'plugin.mjs', name: 'which', version: String(version++), handover: spec.key }]),
    );
  await writeConfig();
  const glean = new Glean(scratch.file('glean.json'), { watch: false, logger: false });
  await glean.loadConfig();
  const which = await glean.reloadAndWatch('P');
  return { spec, scratch, glean, which, writeConfig };
}

/** One swap under a steady caller: reloadConfig() time, the slowest call during it, the calls answered. */
async function swap(contender) {
  const { glean, which, writeConfig } = contender;
  await writeConfig();
  let done = false;
  let slowest = 0;
  let answered = 0;
  const caller = (async () => {
    while (!done) {
      const start = now();
      await which();
      slowest = Math.max(slowest, now() - start);
      answered++;
    }
  })();
  const start = now();
  await glean.reloadConfig();
  const reloadMs = now() - start;
  // One more call after the swap, so the call that waited through it is counted.
  done = true;
  await caller;
  return { reloadMs, slowestCallMs: slowest, callsDuringSwap: answered };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const contenders = [];
  for (const spec of CONTENDERS) contenders.push(await startContender(spec));
  const samples = Object.fromEntries(CONTENDERS.map(({ key }) => [key, []]));
  try {
    await interleave(contenders, plan, async (contender, round) => {
      await quiet();
      const sample = await swap(contender);
      if (round >= 0) samples[contender.spec.key].push(sample);
    });
  } finally {
    for (const { glean, scratch } of contenders) {
      await glean.close();
      await scratch.remove();
    }
  }
  log(`handover: ${plan.rounds} swaps per contender`);
  const results = {};
  for (const { key } of CONTENDERS) {
    const list = samples[key];
    results[key] = {
      reloadMs: summarize(list.map((s) => s.reloadMs)),
      slowestCallMs: summarize(list.map((s) => s.slowestCallMs)),
      callsDuringSwap: median(list.map((s) => s.callsDuringSwap)),
      swaps: list,
    };
  }
  const pick = (key, field) => samples[key].map((s) => s[field]);
  return {
    plan,
    results,
    differences: {
      reloadMs: pairedDifference(pick('drain-first', 'reloadMs'), pick('overlap', 'reloadMs')),
      slowestCallMs: pairedDifference(pick('drain-first', 'slowestCallMs'), pick('overlap', 'slowestCallMs')),
    },
  };
}

export function tables({ plan, results, differences }) {
  const latency = {
    title: `A swap under a steady caller, ${plan.rounds} swaps each: reloadConfig() and the slowest call during it, ms`,
    columns: ['handover', 'reload p50', 'reload p99', 'slowest call p50', 'slowest call p99', 'calls answered'],
    rows: CONTENDERS.map(({ key, label }) => {
      const r = results[key];
      return [
        label,
        fixed(r.reloadMs.p50, 1),
        fixed(r.reloadMs.p99, 1),
        fixed(r.slowestCallMs.p50, 1),
        fixed(r.slowestCallMs.p99, 1),
        String(r.callsDuringSwap),
      ];
    }),
    note: [
      'slowest call: from the moment a call was made until it was answered, the slowest of the swap (one call in flight at a time).',
      "Under drain-first the calls made during the handover wait for the old version's drain, its dispose, its threads' end and the new",
      "version's start (which adopts a spare thread started ahead of time, as under overlap, and only imports the plugin).",
      `drain-first − overlap, median over rounds of the paired difference: reload ${fixed(differences.reloadMs, 1)} ms, slowest call ${fixed(differences.slowestCallMs, 1)} ms.`,
    ].join('\n'),
  };
  return [latency];
}
