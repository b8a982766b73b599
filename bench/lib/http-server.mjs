/**
 * The server side of bench/http.mjs, in a process of its own so the load generator does not share
 * its event loop. Three node:http servers, each through the same `httpListener` adapter and the
 * same plugin file (plugins/hash/index.mjs):
 *
 *   inprocess  the plugin's exports called directly on the main thread
 *   threads1   a glean hot handle, threads: 1
 *   threads2   a glean hot handle, threads: 2
 *
 * Each serves POST /hash (CPU-bound) and GET /hello (does nothing). Talks to its parent over IPC:
 * sends `{ ports }` once listening; answers `'cpu'` with `process.cpuUsage()`; `'stop'` closes all.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Glean } from '@glean/core';
import { httpListener } from '@glean/core/http';
import * as plugin from '../../plugins/hash/index.mjs';
import { scratchFolder } from './scratch.mjs';

const PLUGIN = fileURLToPath(new URL('../../plugins/hash/index.mjs', import.meta.url));
const BODY_LIMIT = 1 << 20;

const scratch = await scratchFolder('http');
const configPath = scratch.file('plugin.json');
await scratch.write(
  'plugin.json',
  JSON.stringify([
    // Ids naming the same file with the same options share one version: Hash1 and Hello1 one worker, Hash2 and Hello2 two.
    { id: 'Hash1', file: PLUGIN, name: 'hash', threads: 1 },
    { id: 'Hello1', file: PLUGIN, name: 'hello', threads: 1 },
    { id: 'Hash2', file: PLUGIN, name: 'hash', threads: 2 },
    { id: 'Hello2', file: PLUGIN, name: 'hello', threads: 2 },
  ]),
);
// The config is in a temp folder; the plugin root (by default the config's folder) is the plugin's.
const glean = new Glean(configPath, {
  watch: false,
  prewarm: false,
  root: fileURLToPath(new URL('../../plugins/hash/', import.meta.url)),
});
await glean.loadConfig();

/** A server routing /hash and /hello to two handlers through the node:http adapter. */
function server(hash, hello) {
  const options = { bodyLimit: BODY_LIMIT };
  const routes = { '/hash': httpListener(hash, options), '/hello': httpListener(hello, options) };
  return createServer((request, response) => {
    const route = routes[request.url.split('?', 1)[0]];
    if (route === undefined) response.writeHead(404).end();
    else route(request, response);
  });
}

const servers = {
  inprocess: server(
    async (request) => plugin.hash(request),
    async (request) => plugin.hello(request),
  ),
  threads1: server(await glean.reloadAndWatch('Hash1'), await glean.reloadAndWatch('Hello1')),
  threads2: server(await glean.reloadAndWatch('Hash2'), await glean.reloadAndWatch('Hello2')),
};
const ports = {};
for (const [key, listening] of Object.entries(servers)) {
  await new Promise((resolve) => listening.listen(0, '127.0.0.1', resolve));
  ports[key] = listening.address().port;
}

process.on('message', async (message) => {
  if (message === 'cpu') {
    process.send({ cpu: process.cpuUsage(), threads: glean.status()['Hash2'].threads.length });
  } else if (message === 'stop') {
    for (const listening of Object.values(servers)) {
      listening.close();
      listening.closeAllConnections();
    }
    await glean.close();
    await scratch.remove();
    process.disconnect();
  }
});
process.send({ ports });
