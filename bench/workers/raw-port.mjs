/**
 * Thread side of the raw baseline (lib/raw-port.mjs): the least a request/response over
 * `postMessage` can do, around the same plugin function glean's contender loads. `workerData` is
 * `{ url, name }`, the plugin module and its export. `{ id, args }` in, `{ id, value }` out on the
 * Worker's own port, nothing else; a result marked with `Symbol.for('glean.transfer')`, as glean's
 * plugins mark theirs, has those buffers moved back instead of copied (structured clone drops the
 * symbol-keyed property itself).
 */
import { parentPort, workerData } from 'node:worker_threads';

const TRANSFER = Symbol.for('glean.transfer');
const fn = (await import(workerData.url))[workerData.name];

parentPort.on('message', ({ id, args }) => {
  const value = fn(...args);
  const transfer = value?.[TRANSFER];
  if (transfer === undefined) parentPort.postMessage({ id, value });
  else parentPort.postMessage({ id, value }, transfer);
});
