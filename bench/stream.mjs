/**
 * The streaming benchmark: items per second of a streamed result, an async generator of small
 * records read to its end on the host, glean's handle against a raw MessagePort stream doing the same
 * with the same window (STREAM_WINDOW items ahead at most, refilled once half was read): one message
 * per item, and one per turn of the worker's event loop (glean's own batching). Interleaved round by
 * round in one process; each contender is compared with the raw per-item stream of the same round.
 */
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadSymbol, release } from '@glean/core';
import { STREAM_WINDOW } from '@glean/core/limits';
import { cpuSince } from './lib/cpu.mjs';
import { fixed, grouped, times } from './lib/format.mjs';
import { interleave } from './lib/rounds.mjs';
import { median, pairedRatio } from './lib/stats.mjs';

export const name = 'stream';

const PLANS = {
  full: { warmupRounds: 3, rounds: 20, items: 100_000 },
  quick: { warmupRounds: 1, rounds: 6, items: 20_000 },
};

const FIXTURE = fileURLToPath(new URL('./fixtures/stream.mjs', import.meta.url));
const WORKER = new URL('./workers/raw-stream.mjs', import.meta.url);

/** A raw stream's host side: the same window and refill rule as glean's HostStream, nothing else. */
async function rawContender(batched) {
  const worker = new Worker(WORKER, { workerData: { url: pathToFileURL(FIXTURE).href, name: 'rows', batched } });
  await once(worker, 'online');
  let nextId = 0;
  const streams = new Map();
  worker.on('message', (message) => streams.get(message.id)?.(message));
  const read = (n) =>
    new Promise((resolve) => {
      const id = ++nextId;
      let granted = STREAM_WINDOW;
      let consumed = 0;
      let count = 0;
      streams.set(id, (message) => {
        if (message.end) {
          streams.delete(id);
          resolve(count);
          return;
        }
        // The reader takes each item as it comes, and grants room as glean's does.
        for (const item of message.items) if (item.name === 'row') count++;
        consumed += message.items.length;
        const ahead = granted - consumed;
        if (ahead <= STREAM_WINDOW / 2) {
          worker.postMessage({ type: 'pull', id, n: STREAM_WINDOW - ahead });
          granted += STREAM_WINDOW - ahead;
        }
      });
      worker.postMessage({ type: 'start', id, args: [n] });
      worker.postMessage({ type: 'pull', id, n: STREAM_WINDOW });
    });
  return {
    key: batched ? 'raw-batched' : 'raw',
    label: batched
      ? 'raw MessagePort, items of a turn in one message'
      : 'raw MessagePort, one message per item (floor)',
    read,
    close: () => worker.terminate(),
  };
}

async function gleanContender() {
  const rows = await loadSymbol(FIXTURE, 'rows', { logger: false });
  return {
    key: 'glean',
    label: 'glean handle, for await of a streamed result',
    read: async (n) => {
      let count = 0;
      for await (const item of await rows(n)) if (item.name === 'row') count++;
      return count;
    },
    close: () => release(rows),
  };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const contenders = [];
  try {
    for (const factory of [() => rawContender(false), () => rawContender(true), gleanContender]) {
      const contender = await factory();
      contenders.push(contender);
      const count = await contender.read(10);
      if (count !== 10) throw new Error(`${contender.label}: read ${count} items of 10`);
    }
    log(
      `stream: ${plan.items} items per stream, window ${STREAM_WINDOW}, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds per contender`,
    );
    const perRound = new Map(contenders.map(({ key }) => [key, { itemsPerSecond: [], cpuUsPerItem: [] }]));
    await interleave(contenders, plan, async ({ key, label, read }, round) => {
      const cpu = process.cpuUsage();
      const start = performance.now();
      const count = await read(plan.items);
      const seconds = (performance.now() - start) / 1000;
      if (count !== plan.items) throw new Error(`${label}: read ${count} items of ${plan.items}`);
      if (round < 0) return;
      const figures = perRound.get(key);
      figures.itemsPerSecond.push(plan.items / seconds);
      figures.cpuUsPerItem.push(cpuSince(cpu) / plan.items);
    });
    const floor = perRound.get('raw').itemsPerSecond;
    const results = Object.fromEntries(
      contenders.map(({ key }) => {
        const { itemsPerSecond, cpuUsPerItem } = perRound.get(key);
        return [
          key,
          {
            medianItemsPerSecond: median(itemsPerSecond),
            vsFloor: pairedRatio(itemsPerSecond, floor),
            cpuUsPerItem: median(cpuUsPerItem),
            roundItemsPerSecond: itemsPerSecond,
          },
        ];
      }),
    );
    return { plan, window: STREAM_WINDOW, contenders: contenders.map(({ key, label }) => ({ key, label })), results };
  } finally {
    await Promise.allSettled(contenders.map((contender) => contender.close()));
  }
}

export function tables(figures) {
  const { plan, window, contenders, results } = figures;
  return [
    {
      title: `A streamed result read to its end: items per second, medians over ${plan.rounds} rounds of ${grouped(plan.items)} items per contender (window ${window}, after ${plan.warmupRounds} warm-up)`,
      columns: ['contender', 'items/s', '× raw per item', 'round range items/s', 'CPU µs/item'],
      rows: contenders.map(({ key, label }) => {
        const r = results[key];
        return [
          label,
          grouped(r.medianItemsPerSecond),
          times(r.vsFloor),
          `${grouped(Math.min(...r.roundItemsPerSecond))}–${grouped(Math.max(...r.roundItemsPerSecond))}`,
          fixed(r.cpuUsPerItem, 2),
        ];
      }),
      note: [
        '× raw per item: median over rounds of the ratio to the raw one-message-per-item stream in the same round.',
        'Each item is { id, name }; every contender reads each one. CPU µs/item: user + system time of the whole process (host and workers).',
      ].join('\n'),
    },
  ];
}
