/**
 * glean's other example (`_example/test` in the Go library), ported: a value `V` and a function
 * `Add` from two versions of a plugin (plugins/plugin1: 10 and x + y; plugins/plugin2: 100 and
 * (x + y) * 10), loaded three ways.
 *
 *   1. loadSymbol: one export of one file, no config (glean's LoadSymbol).
 *   2. reload: a handle by id from a config, pinned to the version current when it was asked for.
 *   3. reloadAndWatch: a handle by id that follows the config (glean's ReloadAndWatch); glean.watch()
 *      turns a pinned handle into one (glean's Watch).
 *
 *   npm run example:basics
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Glean, loadSymbol, release } from '@glean/core';

const plugin = (name) => fileURLToPath(new URL(`plugins/${name}/index.ts`, import.meta.url));
/** The plugin a file path names, for printing: `plugin1` or `plugin2`. */
const nameOf = (file) => /(plugin\d)/.exec(file)[1];

// 1. loadSymbol, as glean's _example/test does: each handle has workers of its own; release them.
console.log('loadSymbol');
for (const name of ['plugin1', 'plugin2']) {
  const v = await loadSymbol(plugin(name), 'V', { logger: false });
  console.log(`using ${name}: value = ${v.value}`);
  await release(v);
}
for (const name of ['plugin1', 'plugin2']) {
  const add = await loadSymbol(plugin(name), 'Add', { logger: false });
  try {
    console.log(`using ${name}: 1+2 = ${await add(1, 2)}`);
  } finally {
    await release(add);
  }
}

// 2 and 3. By id, from a config. It lives in a temp folder, so running the example edits nothing here.
const folder = await mkdtemp(join(tmpdir(), 'glean-basics-'));
const configPath = join(folder, 'plugin.json');
const config = (name) =>
  JSON.stringify([
    { id: 'AddID', file: plugin(name), name: 'Add', version: name },
    { id: 'VID', file: plugin(name), name: 'V', version: name },
  ]);
await writeFile(configPath, config('plugin1'));
// Plugins load only from inside the plugin root, by default the config's folder: here, this example's.
const glean = new Glean(configPath, { root: fileURLToPath(new URL('.', import.meta.url)) });
try {
  await glean.loadConfig();
  const pinned = { add: await glean.reload('AddID'), v: await glean.reload('VID') };
  const live = { add: await glean.reloadAndWatch('AddID'), v: await glean.reloadAndWatch('VID') };
  const show = async (how, { add, v }, name) =>
    console.log(`${how}using ${name}: value = ${v.value}, 1+2 = ${await add(1, 2)}`);

  console.log(`\nthe config names plugin1`);
  await show('reload          ', pinned, 'plugin1');
  await show('reloadAndWatch  ', live, nameOf(glean.status().VID.file));

  // Edit the config as a person would; the watcher sees it and switches the watching handles.
  const reloaded = new Promise((resolve) => glean.on('reload', ({ id }) => id === 'VID' && resolve()));
  await writeFile(configPath, config('plugin2'));
  await reloaded;
  console.log(`\nthe config now names plugin2`);
  await show('reload          ', pinned, 'plugin1');
  await show('reloadAndWatch  ', live, nameOf(glean.status().VID.file));

  // glean.watch: the pinned handles follow the config from now on; their old version retires.
  await Promise.all([glean.watch(pinned.add), glean.watch(pinned.v)]);
  console.log(`\nafter glean.watch(pinned)`);
  await show('reload + watch  ', pinned, nameOf(glean.status().VID.file));
} finally {
  await glean.close();
  await rm(folder, { recursive: true, force: true });
}
