/**
 * comlink carried by a piscina task, as glean's control channel is: the task exposes the plugin
 * on a port it was handed and lasts until the host closes that port, so piscina only owns the
 * thread and every call travels through comlink.
 */
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { add } from '../fixtures/add.mjs';

export default function serve({ port }) {
  expose({ add }, nodeEndpoint(port));
  // 'close' fires on this side once the host closes its end.
  return new Promise((resolve) => port.once('close', resolve));
}
