/**
 * The payload benchmark: a 1 MiB body in and out of a plugin, one call at a time, copied (structured
 * clone both ways) and transferred (the buffer moves to the worker and back, `transfer()` on the way
 * in, `Symbol.for('glean.transfer')` on the way out). glean against a raw MessagePort doing the same,
 * interleaved round by round in one process, one mode after the other; each glean path is compared
 * with the raw path of the same mode as measured in the same round.
 *
 * Then result shapes (fixtures/shapes.mjs), what glean's check of a value (the table of values,
 * @glean/worker/values) costs: a small object, arrays of 1,000 and 10,000 small records, and 1,000
 * records holding a URL each (encoded by glean; the raw floor carries their text), each against the
 * raw port returning the same shape in the same round.
 */
import { fileURLToPath } from 'node:url';
import { loadSymbol, release, transfer } from '@glean/core';
import { timeSequential } from './lib/measure.mjs';
import { fixed, grouped, times } from './lib/format.mjs';
import { startRawPort } from './lib/raw-port.mjs';
import { interleave } from './lib/rounds.mjs';
import { latencyOf, median, summarize } from './lib/stats.mjs';

export const name = 'payload';

/** The body: 1 MiB. */
const BODY_BYTES = 1 << 20;

/**
 * Calls per round by mode: a transferred call takes tens of µs, a copied one over a millisecond.
 * The two modes run one after the other, transferred first, so the garbage of a megabyte copied per
 * call (and the collections it brings) does not land in the transferred rounds.
 */
const PLANS = {
  full: { warmupRounds: 3, rounds: 20, calls: { copy: 200, transfer: 2000 } },
  quick: { warmupRounds: 1, rounds: 6, calls: { copy: 60, transfer: 500 } },
};

const ECHO = fileURLToPath(new URL('./fixtures/echo.mjs', import.meta.url));
const SHAPES = fileURLToPath(new URL('./fixtures/shapes.mjs', import.meta.url));

/** The shapes, the one the raw floor returns for each (it cannot carry a URL), and calls per round. */
const SHAPE_PLANS = {
  full: { warmupRounds: 2, rounds: 12, calls: { small: 2000, records: 200, many: 20, urls: 100 } },
  quick: { warmupRounds: 1, rounds: 6, calls: { small: 500, records: 60, many: 8, urls: 30 } },
};
const RAW_SHAPE = { small: 'small', records: 'records', many: 'many', urls: 'hrefs' };
const SHAPE_LABELS = {
  small: 'a small object (4 fields)',
  records: '1,000 records (5 fields each)',
  many: '10,000 records',
  urls: '1,000 records with a URL each',
};

const newBody = () => new Uint8Array(BODY_BYTES).fill(7);

/**
 * A contender keeps its own body: the copying ones send the same one every time (the worker gets
 * a copy), the transferring ones send the body the previous call gave back, since theirs moved.
 * `send(body)` makes one call and resolves with the plugin's `{ body }`.
 */
function contender({ key, label, move }, send, close) {
  let body = newBody();
  const call = async () => {
    const { body: back } = await send(body);
    if (move) body = back;
    return back;
  };
  return { key, label, floor: move ? 'raw-transfer' : 'raw-copy', move, call, sent: () => body, close };
}

/** The floor of each mode (lib/raw-port.mjs) runs the same plugin as glean's: `echoTransfer` marks its buffer to move back. */
async function rawContender(move) {
  const port = await startRawPort(ECHO, move ? 'echoTransfer' : 'echo');
  return contender(
    move
      ? { key: 'raw-transfer', label: 'raw MessagePort, transferred (floor)', move }
      : { key: 'raw-copy', label: 'raw MessagePort, copied (floor)', move },
    (body) => (move ? port.call([{ body }], [body.buffer]) : port.call([{ body }])),
    port.close,
  );
}

async function gleanContender(move) {
  const handle = await loadSymbol(ECHO, move ? 'echoTransfer' : 'echo', { logger: false });
  return contender(
    move
      ? { key: 'glean-transfer', label: 'glean handle, transfer() both ways', move }
      : { key: 'glean-copy', label: 'glean handle, copied', move },
    (body) => (move ? handle(transfer({ body }, [body.buffer])) : handle({ body })),
    () => release(handle),
  );
}

/** Checks that a contender really echoes the body, and really moves it when it should. */
async function check(contender) {
  const sent = contender.sent();
  const first = sent[0];
  const back = await contender.call();
  if (!(back instanceof Uint8Array) || back.byteLength !== BODY_BYTES || back[0] !== (first ^ 1)) {
    throw new Error(`${contender.label}: the body did not come back flipped`);
  }
  if (contender.move && sent.byteLength !== 0)
    throw new Error(`${contender.label}: the body was copied, not transferred`);
  if (!contender.move && sent.byteLength !== BODY_BYTES) throw new Error(`${contender.label}: the body was detached`);
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const contenders = [];
  try {
    for (const factory of [
      () => rawContender(false),
      () => rawContender(true),
      () => gleanContender(false),
      () => gleanContender(true),
    ]) {
      const contender = await factory();
      contenders.push(contender);
      await check(contender);
    }
    const perRound = new Map(contenders.map((c) => [c.key, { p50: [], p99: [], cpu: [] }]));
    for (const mode of ['transfer', 'copy']) {
      const calls = plan.calls[mode];
      const group = contenders.filter((contender) => contender.move === (mode === 'transfer'));
      log(
        `payload: 1 MiB in and out, ${mode}, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${calls} calls per contender`,
      );
      const scratch = new Float64Array(calls);
      await interleave(group, plan, async ({ key, call }, round) => {
        const cpu = await timeSequential(call, calls, scratch);
        if (round < 0) return;
        const { p50, p99 } = summarize(scratch);
        const figures = perRound.get(key);
        figures.p50.push(p50);
        figures.p99.push(p99);
        figures.cpu.push(cpu);
      });
    }
    const results = Object.fromEntries(
      contenders.map(({ key, floor }) => {
        const rounds = perRound.get(key);
        return [
          key,
          {
            ...latencyOf(rounds, perRound.get(floor)),
            // In and out: two bodies per call.
            mibPerSecondAtP50: (2 * 1e6) / median(rounds.p50),
          },
        ];
      }),
    );
    return {
      plan,
      bodyBytes: BODY_BYTES,
      contenders: contenders.map(({ key, label, floor }) => ({ key, label, floor })),
      results,
      shapes: await runShapes(quick ? SHAPE_PLANS.quick : SHAPE_PLANS.full, log),
    };
  } finally {
    await Promise.allSettled(contenders.map((contender) => contender.close()));
  }
}

/** Each shape returned by the raw port and by a glean handle, interleaved round by round, shape after shape. */
async function runShapes(plan, log) {
  const raw = await startRawPort(SHAPES, 'shape');
  const handle = await loadSymbol(SHAPES, 'shape', { logger: false });
  try {
    const results = {};
    for (const [shape, calls] of Object.entries(plan.calls)) {
      const glean = await handle(shape);
      if (!Array.isArray(glean) && shape !== 'small') throw new Error(`glean: shape ${shape} did not come back`);
      // A glean from before values kept their meaning (run for a comparison) returns {} or refuses: said, not fatal.
      if (shape === 'urls' && !(glean[0].home instanceof URL))
        log('payload: this glean returns a URL as something else');
      const group = [
        { key: 'raw', call: () => raw.call([RAW_SHAPE[shape]]) },
        { key: 'glean', call: () => handle(shape) },
      ];
      log(
        `payload: ${SHAPE_LABELS[shape]}, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${calls} calls per contender`,
      );
      const perRound = { raw: { p50: [], p99: [], cpu: [] }, glean: { p50: [], p99: [], cpu: [] } };
      const scratch = new Float64Array(calls);
      await interleave(group, plan, async ({ key, call }, round) => {
        const cpu = await timeSequential(call, calls, scratch);
        if (round < 0) return;
        const { p50, p99 } = summarize(scratch);
        perRound[key].p50.push(p50);
        perRound[key].p99.push(p99);
        perRound[key].cpu.push(cpu);
      });
      results[shape] = { raw: latencyOf(perRound.raw, perRound.raw), glean: latencyOf(perRound.glean, perRound.raw) };
    }
    return { plan, results };
  } finally {
    await Promise.allSettled([raw.close(), release(handle)]);
  }
}

export function tables(figures) {
  const { plan, contenders, results } = figures;
  return [
    {
      title: `1 MiB body in and out, one call at a time: µs per call, medians of the per-round p50 and p99 (${plan.rounds} rounds × ${plan.calls.transfer} transferred or ${plan.calls.copy} copied calls, after ${plan.warmupRounds} warm-up)`,
      columns: [
        'contender',
        'p50 µs',
        'p99 µs',
        'p50 × raw',
        'p99 × raw',
        'MiB/s at p50',
        'round p50 range µs',
        'CPU µs/call',
      ],
      rows: contenders.map(({ key, label }) => {
        const r = results[key];
        const range = `${fixed(Math.min(...r.roundP50Us), 0)}–${fixed(Math.max(...r.roundP50Us), 0)}`;
        return [
          label,
          fixed(r.p50Us, 0),
          fixed(r.p99Us, 0),
          times(r.p50VsFloor),
          times(r.p99VsFloor),
          grouped(r.mibPerSecondAtP50),
          range,
          fixed(r.cpuUsPerCall, 0),
        ];
      }),
      note: [
        '× raw: median over rounds of the ratio to the raw MessagePort of the same mode (copied or transferred) in the same round.',
        'MiB/s: two MiB (in and out) per call at the p50. CPU µs/call: user + system time of the whole process (host and workers).',
      ].join('\n'),
    },
    ...(figures.shapes === undefined ? [] : [shapesTable(figures.shapes)]),
  ];
}

function shapesTable({ plan, results }) {
  return {
    title: `Result shapes, one call at a time: µs per call, medians of the per-round p50 and p99 (${plan.rounds} rounds, after ${plan.warmupRounds} warm-up)`,
    columns: ['result', 'raw p50 µs', 'glean p50 µs', 'p50 × raw', 'raw CPU µs/call', 'glean CPU µs/call', 'CPU × raw'],
    rows: Object.entries(results).map(([shape, { raw, glean }]) => [
      SHAPE_LABELS[shape],
      fixed(raw.p50Us, 1),
      fixed(glean.p50Us, 1),
      times(glean.p50VsFloor),
      fixed(raw.cpuUsPerCall, 1),
      fixed(glean.cpuUsPerCall, 1),
      times(glean.cpuUsPerCall / raw.cpuUsPerCall),
    ]),
    note: [
      '× raw: median over rounds of the ratio to the raw MessagePort returning the same shape in the same round (for the URLs, their text: it cannot carry a URL).',
      'CPU µs/call: user + system time of the whole process (host and workers), median over rounds.',
    ].join('\n'),
  };
}
