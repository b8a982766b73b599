/** Thread side of plain comlink: the plugin's exports exposed on the Worker's own port. */
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { add } from '../fixtures/add.mjs';

expose({ add }, nodeEndpoint(parentPort));
