/**
 * Thread side of the floor: the least a request/response over `postMessage` can do.
 * `{ id, args }` in, `{ id, value }` out on the Worker's own port, nothing else.
 */
import { parentPort } from 'node:worker_threads';
import { add } from '../fixtures/add.mjs';

parentPort.on('message', ({ id, args }) => parentPort.postMessage({ id, value: add(...args) }));
