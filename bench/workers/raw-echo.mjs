/**
 * Thread side of the payload floor: `{ id, move, body }` in, `{ id, value: { body } }` out on the
 * Worker's own port, the body's first byte flipped; with `move`, its buffer is transferred back.
 */
import { parentPort } from 'node:worker_threads';

parentPort.on('message', ({ id, move, body }) => {
  body[0] ^= 1;
  if (move) parentPort.postMessage({ id, value: { body } }, [body.buffer]);
  else parentPort.postMessage({ id, value: { body } });
});
