/**
 * One side of the memory benchmark, in a process of its own (run by bench/memory.mjs, with --expose-gc):
 *
 *   node --expose-gc bench/lib/memory-child.mjs glean|import <reloads> <every> <warmup>
 *
 * `glean`: a Glean watching a config that names the 200 KB plugin; each reload writes the config
 * with the next `version` text, waits for the new version to be committed and to answer a call,
 * and for the old one to retire. `import`: the cache-busting re-import, `import(url + '?v=' + i)`,
 * in this process, then one call. After `warmup` reloads, and every `every` reloads after them,
 * the heap is measured after forced garbage collection. Writes one JSON line to stdout.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Glean } from '@glean/core';
import { bigPluginSource } from '../fixtures/big-plugin.mjs';
import { collectedMemory } from './collected.mjs';
import { scratchFolder } from './scratch.mjs';

const [mode, reloadsText, everyText, warmupText] = process.argv.slice(2);
const reloads = Number(reloadsText);
const every = Number(everyText);
const warmup = Number(warmupText);

const log = (message) => process.stderr.write(`memory (${mode}): ${message}\n`);
/** Heap and RSS once idle and after forced GC (lib/collected.mjs). */
async function collected() {
  const { heapUsed, heapTotal, external, arrayBuffers, rss } = await collectedMemory();
  return { heapUsed, heapTotal, external, arrayBuffers, rss };
}

/** Runs `reload(i)` warmup + reloads times, measuring after the warm-up and every `every` reloads after it. */
async function measure(reload) {
  const checkpoints = [];
  for (let i = 1; i <= warmup; i++) await reload(i);
  checkpoints.push({ reloads: 0, ...(await collected()) });
  // Only the reloads count: the checkpoints' forced collections would weigh on the side that keeps most.
  let reloading = 0;
  for (let n = 1; n <= reloads; n++) {
    const start = performance.now();
    await reload(warmup + n);
    reloading += performance.now() - start;
    if (n % every === 0 || n === reloads) {
      checkpoints.push({ reloads: n, ...(await collected()) });
      log(`${n}/${reloads} reloads, heap ${(checkpoints.at(-1).heapUsed / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  return { msPerReload: reloading / reloads, checkpoints };
}

async function gleanSide(scratch) {
  const configPath = scratch.file('plugin.json');
  const config = (version) =>
    `${JSON.stringify([{ id: 'Big', file: 'big.mjs', name: 'lookup', version: String(version) }], null, 2)}\n`;
  await writeFile(configPath, config(0));
  const glean = new Glean(configPath, { logger: false });
  const errors = [];
  glean.on('error', (error) => errors.push(`${error.code}: ${error.message}`));
  try {
    await glean.loadConfig();
    const handle = await glean.reloadAndWatch('Big');
    await handle(1);
    const result = await measure(async (i) => {
      const reloaded = new Promise((resolve) => glean.once('reload', resolve));
      const retired = new Promise((resolve) => glean.once('retire', resolve));
      await writeFile(configPath, config(i));
      await reloaded;
      await handle(i);
      await retired;
    });
    return { ...result, errors };
  } finally {
    await glean.close();
  }
}

async function importSide(scratch) {
  const url = pathToFileURL(scratch.file('big.mjs')).href;
  (await import(`${url}?v=0`)).lookup(1);
  return measure(async (i) => {
    const module = await import(`${url}?v=${i}`);
    module.lookup(i);
  });
}

async function main() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  if (!['glean', 'import'].includes(mode) || !(reloads > 0 && every > 0 && warmup >= 0)) {
    throw new Error('usage: node --expose-gc bench/lib/memory-child.mjs glean|import <reloads> <every> <warmup>');
  }
  const scratch = await scratchFolder(`memory-${mode}`);
  try {
    const source = bigPluginSource();
    await scratch.write('big.mjs', source);
    await scratch.write('package.json', '{ "type": "module" }\n');
    const result = mode === 'glean' ? await gleanSide(scratch) : await importSide(scratch);
    process.stdout.write(
      `${JSON.stringify({ mode, reloads, warmup, pluginBytes: Buffer.byteLength(source), ...result })}\n`,
    );
  } finally {
    await scratch.remove();
  }
}

main().catch((error) => {
  log(error?.stack ?? String(error));
  process.exitCode = 1;
});
