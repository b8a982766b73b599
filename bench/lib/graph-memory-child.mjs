/**
 * One side of the graph benchmark's memory part, in a process of its own (run by bench/graph.mjs):
 *
 *   node --expose-gc bench/lib/graph-memory-child.mjs mjs|ts <modules> <counts, e.g. 0,1,4,8,12>
 *
 * Writes as many copies of the graph benchmark's plugin (fixtures/graph-plugin.mjs) as the last
 * count, each in a folder of its own (so each is a version, with a thread, of its own), and one
 * Glean whose config names the first `count` of them, for each count in turn: `reloadConfig()`, a
 * handle to each new one and a call. At each count, once idle and after forced GC, it notes the
 * host's heap and RSS, its threads, and its child processes (how many, their RSS; esbuild's service
 * is one). Writes one JSON line to stdout.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { graphPluginFiles } from '../fixtures/graph-plugin.mjs';
import { descendants, threadCount } from './processes.mjs';
import { collectedMemory } from './collected.mjs';
import { quiet } from './quiet.mjs';
import { scratchFolder } from './scratch.mjs';
import { benchGlean, writeJson } from './bench-glean.mjs';

const [language, modulesText, countsText] = process.argv.slice(2);
const modules = Number(modulesText);
const counts = (countsText ?? '').split(',').map(Number);

const log = (message) => process.stderr.write(`graph memory (${language}, ${modules} modules): ${message}\n`);

/** Heap and RSS once idle and after forced GC (lib/collected.mjs), with threads and child processes. */
async function collected() {
  const { heapUsed, heapTotal, rss } = await collectedMemory();
  const children = descendants();
  return {
    heapUsed,
    heapTotal,
    rss,
    threads: threadCount(),
    children: children.length,
    childRss: children.reduce((sum, child) => sum + (child.rss ?? 0), 0),
    childCommands: children.map((child) => child.command),
  };
}

async function main() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  if (!['mjs', 'ts'].includes(language) || !(modules >= 1) || counts.some((n) => !(n >= 0))) {
    throw new Error('usage: node --expose-gc bench/lib/graph-memory-child.mjs mjs|ts <modules> <counts>');
  }
  const scratch = await scratchFolder(`graph-memory-${language}`);
  await scratch.write('package.json', '{ "type": "module" }\n');
  const { entry, files } = graphPluginFiles({ typescript: language === 'ts', modules, edit: 0 });
  const most = Math.max(...counts);
  const ids = Array.from({ length: most }, (_, i) => `P${String(i + 1).padStart(2, '0')}`);
  for (const id of ids) {
    for (const [file, text] of Object.entries(files)) {
      const path = scratch.file(`${id}/${file}`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
    }
  }
  const configPath = scratch.file('plugin.json');
  const writeConfig = (count) =>
    writeJson(
      configPath,
      ids.slice(0, count).map((id) => ({ id, file: `${id}/${entry}`, name: 'add' })),
    );
  await writeConfig(0);
  const { glean, errors } = benchGlean(configPath);
  const handles = [];
  const checkpoints = [];
  try {
    await glean.loadConfig();
    for (const count of counts) {
      await writeConfig(count);
      await glean.reloadConfig();
      while (handles.length < count) {
        const handle = await glean.reloadAndWatch(ids[handles.length]);
        if ((await handle(2, 3)) !== 5) throw new Error(`${ids[handles.length]}: add(2, 3) is not 5`);
        handles.push(handle);
      }
      const figures = await collected();
      checkpoints.push({ plugins: count, ...figures });
      log(
        `${count} plugins: heap ${(figures.heapUsed / 2 ** 20).toFixed(1)} MiB, RSS ${(figures.rss / 2 ** 20).toFixed(1)} MiB, ${figures.children} child processes`,
      );
    }
  } finally {
    await glean.close();
    await scratch.remove();
  }
  // After close, esbuild's service should be gone too.
  await quiet();
  const afterClose = descendants().length;
  process.stdout.write(`${JSON.stringify({ language, modules, checkpoints, afterClose, errors })}\n`);
}

main().catch((error) => {
  log(error?.stack ?? String(error));
  process.exitCode = 1;
});
