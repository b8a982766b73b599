/**
 * A worker started ahead of time, waiting to be told what to load: what a spare thread would do.
 * `{ op: 'import', url }` imports a module and answers `{ ms }`, the time it took inside this thread.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

parentPort.on('message', async ({ op, url }) => {
  const start = performance.now();
  try {
    if (op !== 'import') throw new Error(`unknown op ${op}`);
    await import(url);
    parentPort.postMessage({ ms: performance.now() - start });
  } catch (error) {
    parentPort.postMessage({ error: String(error?.stack ?? error) });
  }
});
parentPort.postMessage({ ready: true });
