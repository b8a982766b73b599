/** Thread side of the raw scaling reference: `{ id, seed, kib }` in, `{ id, value }` out, the same plugin as glean's. */
import { parentPort } from 'node:worker_threads';
import { hash } from '../fixtures/hash.mjs';

parentPort.on('message', ({ id, seed, kib }) => parentPort.postMessage({ id, value: hash(seed, kib) }));
