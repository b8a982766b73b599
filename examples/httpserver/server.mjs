/**
 * glean's httpserver example: /foo is served by the hot handle FooHandlerID. Edit plugin.json
 * beside this file (plugin1 → plugin2) while it runs, and the next request is answered by the new
 * code, with no restart. GET /glean/status says which version serves (200 once loaded, 503 when
 * not: a readiness probe's answer).
 *
 *   npm run demo          (PORT overrides the port, 9988 by default; 0 picks a free one)
 *
 * What the environment may set, for a container or a fleet (examples/kubernetes, bench/fleet.mjs):
 *   PORT          the port, 9988 by default (0: a free one)
 *   DEMO_CONFIG   the config file, by default plugin.json beside this file; for a Kubernetes
 *                 ConfigMap mounted as a folder, the plugin.json link in it (/etc/glean/plugin.json)
 *   DEMO_ROOT     the plugin root, by default the repository's folder (plugins/ is in it)
 *   DEMO_EVENTS   "json": also print every reload and activate event as one JSON line on stdout
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Glean } from '@glean/core';
import { httpListener, statusHandler } from '@glean/core/http';

const port = Number(process.env.PORT ?? 9988);
const configPath = process.env.DEMO_CONFIG || fileURLToPath(new URL('plugin.json', import.meta.url));

// Plugins load only from inside the plugin root (by default the config's folder); this example's
// plugins are in the repository's plugins/ folder, beside examples/.
const root = process.env.DEMO_ROOT || fileURLToPath(new URL('../..', import.meta.url));
const glean = new Glean(configPath, { root });
glean.on('reload', ({ id, from, to }) => console.log(`reloaded ${id}: ${from.file} → ${to.file}`));
if (process.env.DEMO_EVENTS === 'json') {
  // One line per event, with the wall-clock time it was announced: what a fleet's switch times are read from.
  const line = (event, fields) => console.log(JSON.stringify({ event, at: Date.now(), pid: process.pid, ...fields }));
  glean.on('reload', ({ id, from, to }) => line('reload', { id, from: from.version, to: to.version, file: to.file }));
  glean.on('activate', (activation) => line('activate', activation));
}
glean.on('error', (error) => console.error(`reload failed, still serving the previous version: ${error.message}`));
await glean.loadConfig();

// A live handle: every request goes to the version FooHandlerID names when it arrives.
const foo = httpListener(await glean.reloadAndWatch('FooHandlerID'));
// What each id runs, as JSON: for a readiness probe (200 or 503) and for whoever asks which version serves.
const status = statusHandler(glean);

const server = createServer((request, response) => {
  const path = request.url?.split('?', 1)[0];
  if (path === '/foo') foo(request, response);
  else if (path === '/glean/status') status(request, response);
  else response.writeHead(404, { 'content-type': 'text/plain' }).end('try /foo\n');
});

server.listen(port, () => {
  const { port: bound } = server.address();
  console.log(`glean httpserver example on http://localhost:${bound}/foo

  curl http://localhost:${bound}/foo                  → Hello, world
  then, in ${configPath},
  replace plugin1 with plugin2 and save
  curl http://localhost:${bound}/foo                  → Hello, gp   (no restart)
  curl http://localhost:${bound}/glean/status         → which version serves, as JSON

Ctrl-C stops it.`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  await glean.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
