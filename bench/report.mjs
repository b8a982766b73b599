/** Turns benchmark figures into text for people and JSON files for docs/architecture.md. */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** `n` with `digits` decimals. */
export const fixed = (n, digits) => n.toFixed(digits);

/** A whole number with thin thousands separators: 123 456. */
export const grouped = (n) => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ');

/** A ratio as `2.41×`; `—` when there is none. */
export const times = (r) => (r === undefined ? '—' : `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×`);

/**
 * A table as aligned text: first column left, the others right-aligned, since they are numbers.
 * `table` is `{ title, columns: string[], rows: string[][], note?: string }`.
 */
export function formatTable({ title, columns, rows, note }) {
  const widths = columns.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [title, line(columns), rule, ...rows.map(line), ...(note === undefined ? [] : [note])].join('\n');
}

/** What the figures were measured on; `pinned` says whether the run was confined to one CPU. */
export function machineInfo(pinned) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    // Honours the CPU affinity, so it shows 1 under `taskset -c 0`.
    availableParallelism: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    pinned,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    // Other work on the machine shows up as spread between rounds; this says how much there was.
    loadAverage1m: os.loadavg()[0],
    date: new Date().toISOString(),
    source: sourceInfo(),
  };
}

/**
 * Which glean was measured: the commit of the checkout this harness sits in, whether its
 * packages/ differ from that commit (others may be editing them), and the built entry loaded.
 */
function sourceInfo() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const git = (...args) => {
    const result = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const status = git('status', '--porcelain', '--', 'packages');
  return {
    commit: git('rev-parse', '--short', 'HEAD') ?? 'unknown',
    packagesModified: status === undefined ? undefined : status.length > 0,
    core: fileURLToPath(import.meta.resolve('@glean/core')),
  };
}

/** Three decimals are below anything these timers can tell apart; the rest is noise in the file. */
function roundForJson(_key, value) {
  return typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
}

/**
 * Writes `{ machine, ...figures }` to `bench/results/<YYYY-MM-DD>-<name>[-pinned][-quick].json`
 * and returns the path. A rerun on the same day in the same mode replaces its file.
 */
export async function writeResults(name, machine, flags, figures) {
  const folder = new URL('./results/', import.meta.url);
  await mkdir(folder, { recursive: true });
  const suffix = `${flags.pinned ? '-pinned' : ''}${flags.quick ? '-quick' : ''}`;
  const file = new URL(`${machine.date.slice(0, 10)}-${name}${suffix}.json`, folder);
  await writeFile(
    file,
    `${JSON.stringify({ benchmark: name, quick: flags.quick, machine, ...figures }, roundForJson, 2)}\n`,
  );
  return file.pathname;
}
