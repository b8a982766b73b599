/**
 * A worker started ahead of time, waiting to be told what to load: what a spare thread would do.
 * `{ op: 'tsx' }` registers tsx's ESM and CommonJS hooks as glean's worker does (packages/worker
 * src/load.ts); `{ op: 'import', url }` imports a module. Each answers `{ ms }`, the time it took
 * inside this thread.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

async function registerTypeScript() {
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
}

parentPort.on('message', async ({ op, url }) => {
  const start = performance.now();
  try {
    if (op === 'tsx') await registerTypeScript();
    else await import(url);
    parentPort.postMessage({ ms: performance.now() - start });
  } catch (error) {
    parentPort.postMessage({ error: String(error?.stack ?? error) });
  }
});
parentPort.postMessage({ ready: true });
