/**
 * The raw alternative every call benchmark measures glean against in the same run: plain Workers
 * (workers/raw-port.mjs) running the same plugin function as glean's contender, `postMessage` both
 * ways, replies matched to calls through a map keyed by id. No validation, no timeouts, no restarts:
 * the floor under any request/response over a MessagePort.
 */
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const WORKER = new URL('../workers/raw-port.mjs', import.meta.url);

/**
 * Starts `threads` Workers serving export `name` of the plugin module at path `file`, and resolves
 * once they are online. `call(args, transferList?)` sends `{ id, args }` to the workers in turn
 * and resolves with the value sent back. `close()` terminates every worker and resolves when they
 * have exited. A worker that fails or exits before `close()` rejects the calls it had, so a broken
 * floor fails a run instead of hanging it.
 */
export async function startRawPort(file, name, { threads = 1 } = {}) {
  const workers = [];
  let closing = false;
  const close = async () => {
    closing = true;
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  };
  try {
    for (let i = 0; i < threads; i++) workers.push(await startWorker(file, name, () => closing));
  } catch (error) {
    await close();
    throw error;
  }
  let nextId = 0;
  const call = (args, transferList) =>
    new Promise((resolve) => {
      const id = ++nextId;
      const { worker, pending } = workers[id % threads];
      // Only `resolve` is kept, as the floor has always done: a failure resolves with a rejection.
      pending.set(id, resolve);
      if (transferList === undefined) worker.postMessage({ id, args });
      else worker.postMessage({ id, args }, transferList);
    });
  return { call, close };
}

/** One Worker and its map of calls waiting for an answer, online. */
async function startWorker(file, name, closing) {
  const worker = new Worker(WORKER, { workerData: { url: pathToFileURL(file).href, name } });
  const pending = new Map();
  worker.on('message', ({ id, value }) => {
    const resolve = pending.get(id);
    pending.delete(id);
    resolve(value);
  });
  let failure;
  worker.on('error', (error) => {
    failure = error;
  });
  worker.on('exit', (code) => {
    if (closing()) return;
    const error = failure ?? new Error(`raw port worker for ${name} in ${file} exited with code ${code}`);
    for (const resolve of pending.values()) resolve(Promise.reject(error));
    pending.clear();
  });
  await once(worker, 'online');
  return { worker, pending };
}
