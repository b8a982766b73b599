/**
 * Host side of every way of calling `add(a, b)` that the calls benchmark compares. Each factory
 * starts its threads and returns a {@link Contender}; `close()` ends every thread it started.
 *
 * Every contender that uses threads gets exactly one worker thread, so the figures compare the
 * call paths and never the number of threads doing the work.
 *
 * @typedef {object} Contender
 * @property {string} key     Stable name, used in the JSON.
 * @property {string} label   Name in the printed tables.
 * @property {(a: number, b: number) => Promise<number>} call
 * @property {() => Promise<void>} close
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { wrap } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import { loadSymbol, release } from '@glean/core';
import { add } from './fixtures/add.mjs';
import { GLEAN_POOL_OPTIONS } from './lib/glean-pool.mjs';
import { startRawPort } from './lib/raw-port.mjs';

const FIXTURE = fileURLToPath(new URL('./fixtures/add.mjs', import.meta.url));
const workerFile = (name) => fileURLToPath(new URL(`./workers/${name}.mjs`, import.meta.url));

/** The key of the contender every ratio is taken against. */
export const FLOOR = 'raw';

/** (a) No thread at all; awaited like the others, so it costs one microtask too. */
async function direct() {
  return {
    key: 'direct',
    label: 'direct in-process (reference)',
    call: async (a, b) => add(a, b),
    close: async () => {},
  };
}

/** (b) The floor: one Worker, `postMessage` both ways, replies matched by id (lib/raw-port.mjs). */
async function raw() {
  const port = await startRawPort(FIXTURE, 'add');
  return {
    key: 'raw',
    label: 'raw MessagePort + id map (floor)',
    call: (a, b) => port.call([a, b]),
    close: port.close,
  };
}

/** (c) comlink `wrap` on a Worker. */
async function comlinkWorker() {
  const worker = new Worker(workerFile('comlink'));
  await once(worker, 'online');
  // Taken once, as a caller holds a glean handle: each `remote.add` read builds a new proxy.
  const remoteAdd = wrap(nodeEndpoint(worker)).add;
  // No releaseProxy(): it waits for a reply, and terminating the thread is what ends it anyway.
  return {
    key: 'comlink',
    label: 'comlink wrap(Worker)',
    call: remoteAdd,
    close: () => worker.terminate().then(() => {}),
  };
}

/** (d, e) One piscina task per call; `atomics` is the only option that differs from piscina's defaults besides the thread count. */
function piscinaRun(atomics) {
  return async () => {
    const pool = new Piscina({
      filename: workerFile('piscina-task'),
      minThreads: 1,
      maxThreads: 1,
      ...(atomics === undefined ? {} : { atomics }),
    });
    return {
      key: atomics === undefined ? 'piscina' : `piscina-atomics-${atomics}`,
      label: `piscina run() (atomics: ${atomics ?? "'sync', default"})`,
      call: (a, b) => pool.run([a, b]),
      close: () => pool.destroy(),
    };
  };
}

/** (f) comlink on a port handed to one long piscina task: glean's control channel, used for calls. */
async function comlinkOverPiscina() {
  const pool = new Piscina({ ...GLEAN_POOL_OPTIONS, filename: workerFile('piscina-comlink') });
  const { port1, port2 } = new MessageChannel();
  const served = pool.run({ port: port2 }, { transferList: [port2] });
  const remoteAdd = wrap(nodeEndpoint(port1)).add;
  const close = async () => {
    port1.close();
    await served;
    await pool.destroy();
  };
  return { key: 'comlink-piscina', label: 'comlink over a piscina task', call: remoteAdd, close };
}

/** (g) glean: a handle from `loadSymbol`, one thread (the default). */
async function glean() {
  const handle = await loadSymbol(FIXTURE, 'add', { logger: false });
  // release() drains and terminates in the background; the process cannot exit before it is done.
  const close = async () => release(handle);
  return { key: 'glean', label: 'glean loadSymbol handle', call: handle, close };
}

/** The contenders, in table order. */
export const CONTENDERS = [
  direct,
  raw,
  comlinkWorker,
  piscinaRun(undefined),
  piscinaRun('disabled'),
  comlinkOverPiscina,
  glean,
];

/**
 * Starts every contender and checks that each one adds. On failure, closes those already
 * started and rethrows.
 */
export async function startContenders() {
  const started = [];
  try {
    for (const factory of CONTENDERS) {
      const contender = await factory();
      started.push(contender);
      const sum = await contender.call(2, 3);
      if (sum !== 5) throw new Error(`${contender.label}: add(2, 3) gave ${sum}`);
    }
    return started;
  } catch (error) {
    await closeContenders(started);
    throw error;
  }
}

/** Closes every contender, even when some fail to close; rejects with the first failure. */
export async function closeContenders(contenders) {
  const outcomes = await Promise.allSettled(contenders.map((contender) => contender.close()));
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
