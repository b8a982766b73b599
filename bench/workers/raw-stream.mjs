/**
 * Thread side of the raw streaming baseline (bench/stream.mjs): the same plugin generator glean's
 * contender runs, its items posted on the Worker's own port as the host grants room, the same window
 * and the same refill rule as glean. `workerData` is `{ url, name, batched }`: with `batched`, the
 * items read in one turn of the event loop go in one message, as glean's worker sends them;
 * without, one message per item. `{ type: 'start', id, args }` and `{ type: 'pull', id, n }` in,
 * `{ id, items }` and `{ id, end: true }` out.
 */
import { parentPort, workerData } from 'node:worker_threads';

const fn = (await import(workerData.url))[workerData.name];
const { batched } = workerData;
const streams = new Map();

parentPort.on('message', (message) => {
  if (message.type === 'start') {
    streams.set(message.id, { iterator: fn(...message.args)[Symbol.asyncIterator](), credit: 0, reading: false });
    return;
  }
  const stream = streams.get(message.id);
  if (stream === undefined) return;
  stream.credit += message.n;
  if (!stream.reading) void read(message.id, stream);
});

async function read(id, stream) {
  stream.reading = true;
  let batch = [];
  let flush;
  const post = () => {
    clearImmediate(flush);
    flush = undefined;
    if (batch.length > 0) parentPort.postMessage({ id, items: batch });
    batch = [];
  };
  while (stream.credit > 0) {
    const { done, value } = await stream.iterator.next();
    if (done) {
      post();
      streams.delete(id);
      parentPort.postMessage({ id, end: true });
      return;
    }
    stream.credit--;
    if (!batched) parentPort.postMessage({ id, items: [value] });
    else {
      batch.push(value);
      if (stream.credit === 0) post();
      else flush ??= setImmediate(post);
    }
  }
  stream.reading = false;
}
