import { fileURLToPath } from 'node:url';
import { fixed } from './lib/format.mjs';
import { runJsonChild } from './lib/json-child.mjs';

export const name = 'memory';

const PLANS = {
  full: { reloads: 1000, every: 100, warmup: 20 },
  quick: { reloads: 100, every: 25, warmup: 5 },
};

const CHILD = fileURLToPath(new URL('./lib/memory-child.mjs', import.meta.url));

/**
 * glibc keeps memory that threads freed unless told otherwise: its mmap threshold rises to the largest
 * chunk freed (up to 32 MiB), so later allocations of that size stay in its heaps. These settings, read
 * by glibc at process start, pin the threshold and return freed tops of heaps; the third side shows
 * what the first side's RSS would be with them.
 */
const GLIBC_RETURNS_MEMORY = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

const SIDES = [
  { key: 'glean', mode: 'glean', label: 'glean (config write, watch)' },
  { key: 'import', mode: 'import', label: "cache-busting import(url + '?v=' + i)" },
  {
    key: 'glean-glibc',
    mode: 'glean',
    label: 'glean, MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ 131072',
    env: GLIBC_RETURNS_MEMORY,
  },
];

/** Runs one side; resolves with its JSON, rejects if the child fails. Its stderr (progress) passes through. */
function runChild(mode, plan, env = {}) {
  // The re-import side keeps about a megabyte per reload: give it room beyond Node's default heap limit.
  const args = [
    '--expose-gc',
    '--max-old-space-size=8192',
    CHILD,
    mode,
    String(plan.reloads),
    String(plan.every),
    String(plan.warmup),
  ];
  return runJsonChild(args, `memory-child ${mode}`, env);
}

/** Least-squares slope of `y` over `x`. */
function slope(x, y) {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

function summarize(result) {
  const { checkpoints, reloads } = result;
  const first = checkpoints[0];
  const last = checkpoints.at(-1);
  const x = checkpoints.map((c) => c.reloads);
  return {
    heapBefore: first.heapUsed,
    heapAfter: last.heapUsed,
    heapGrowthPerReload: (last.heapUsed - first.heapUsed) / reloads,
    heapSlopePerReload: slope(
      x,
      checkpoints.map((c) => c.heapUsed),
    ),
    rssBefore: first.rss,
    rssAfter: last.rss,
    rssMin: Math.min(...checkpoints.map((c) => c.rss)),
    rssMax: Math.max(...checkpoints.map((c) => c.rss)),
    rssGrowthPerReload: (last.rss - first.rss) / reloads,
    rssSlopePerReload: slope(
      x,
      checkpoints.map((c) => c.rss),
    ),
  };
}

export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const sides = {};
  for (const { key, mode, env } of SIDES) {
    log(`memory: ${key}, ${plan.warmup} warm-up + ${plan.reloads} reloads in a child process`);
    const result = await runChild(mode, plan, env);
    sides[key] = { ...result, summary: summarize(result) };
  }
  return { plan, sides: SIDES.map(({ key, label, env }) => ({ key, label, env })), results: sides };
}

const mib = (bytes) => fixed(bytes / 2 ** 20, 1);
const kib = (bytes) => fixed(bytes / 1024, bytes > -10 * 1024 && bytes < 10 * 1024 ? 2 : 0);

export function tables(figures) {
  const { plan, sides, results } = figures;
  const growth = {
    title: `Memory over ${plan.reloads} reloads of a ${Math.round(results.glean.pluginBytes / 1024)} KiB plugin (after ${plan.warmup} warm-up reloads), host process, after forced GC`,
    columns: [
      'side',
      'heap before MiB',
      'heap after MiB',
      'heap KiB/reload',
      'heap slope KiB/reload',
      'RSS before MiB',
      'RSS after MiB',
      'RSS range MiB',
      'RSS KiB/reload',
      'ms/reload',
    ],
    rows: sides.map(({ key, label }) => {
      const s = results[key].summary;
      return [
        label,
        mib(s.heapBefore),
        mib(s.heapAfter),
        kib(s.heapGrowthPerReload),
        kib(s.heapSlopePerReload),
        mib(s.rssBefore),
        mib(s.rssAfter),
        `${mib(s.rssMin)}–${mib(s.rssMax)}`,
        kib(s.rssGrowthPerReload),
        fixed(results[key].msPerReload, 1),
      ];
    }),
    note: [
      'KiB/reload: (after − before) / reloads. slope: least squares over every checkpoint. RSS counts every thread of the process.',
      `Heap: V8's heapUsed of the main thread after repeated gc() until it stops shrinking. Checkpoints every ${plan.every} reloads below.`,
    ].join('\n'),
  };
  const checkpoints = results.glean.checkpoints.map((c) => c.reloads);
  /** One row per side of `figure` at every checkpoint. */
  const bySide = (title, figure) => ({
    title,
    columns: ['side', ...checkpoints.map(String)],
    rows: sides.map(({ key, label }) => [label, ...results[key].checkpoints.map((c) => mib(figure(c)))]),
  });
  return [
    growth,
    bySide('Heap used (MiB) after forced GC, by reloads done', (c) => c.heapUsed),
    bySide('RSS (MiB) after forced GC, by reloads done', (c) => c.rss),
    bySide(
      'V8 heap reserved by the main thread (heapTotal, MiB) after forced GC, by reloads done: part of RSS that heapUsed does not show',
      (c) => c.heapTotal,
    ),
    bySide(
      "RSS outside the main thread's V8 heap (RSS − heapTotal, MiB): worker threads, native memory, what the allocator kept",
      (c) => c.rss - c.heapTotal,
    ),
  ];
}
