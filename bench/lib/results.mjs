/** Each benchmark's figures as a JSON file in bench/results/ (not committed), read back for docs/benchmarks.md. */
import { mkdir, writeFile } from 'node:fs/promises';

const FOLDER = new URL('../results/', import.meta.url);

/** Three decimals are below anything these timers can tell apart; the rest is noise in the file. */
function roundForJson(_key, value) {
  return typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
}

/**
 * Writes `{ machine, ...figures }` to `bench/results/<YYYY-MM-DD>-<name>[-pinned][-quick].json`
 * and returns the path. A rerun on the same day in the same mode replaces its file.
 */
export async function writeResults(name, machine, flags, figures) {
  await mkdir(FOLDER, { recursive: true });
  const suffix = `${flags.pinned ? '-pinned' : ''}${flags.quick ? '-quick' : ''}`;
  const file = new URL(`${machine.date.slice(0, 10)}-${name}${suffix}.json`, FOLDER);
  await writeFile(
    file,
    `${JSON.stringify({ benchmark: name, quick: flags.quick, machine, ...figures }, roundForJson, 2)}\n`,
  );
  return file.pathname;
}
