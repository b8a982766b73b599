/**
 * glean's httpserver example: /foo is served by the hot handle FooHandlerID. Edit plugin.json
 * beside this file (plugin1 → plugin2) while it runs, and the next request is answered by the new
 * code, with no restart.
 *
 *   npm run demo          (PORT overrides the port, 9988 by default)
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Glean } from '@glean/core';

const port = Number(process.env.PORT ?? 9988);
const configPath = fileURLToPath(new URL('plugin.json', import.meta.url));

const glean = new Glean(configPath);
glean.on('reload', ({ id, from, to }) => console.log(`reloaded ${id}: ${from.file} → ${to.file}`));
glean.on('error', (error) => console.error(`reload failed, still serving the previous version: ${error.message}`));
await glean.loadConfig();
const foo = await glean.reloadAndWatch('FooHandlerID');

const server = createServer(async (req, res) => {
  if (req.url !== '/foo') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('try /foo\n');
    return;
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try {
    const answer = await foo({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(answer.status ?? 200, answer.headers).end(answer.body ?? '');
  } catch (error) {
    // The plugin's error stays in the log; the client gets no stack.
    console.error(error);
    res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
  }
});

server.listen(port, () => {
  console.log(`glean httpserver example on http://localhost:${port}/foo

  curl http://localhost:${port}/foo                  → Hello, world
  then, in ${configPath},
  replace plugin1 with plugin2 and save
  curl http://localhost:${port}/foo                  → Hello, gp   (no restart)

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
