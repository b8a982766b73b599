/**
 * @glean/worker — what a plugin may import from glean's worker side. The runtime itself (the serve
 * task) is `@glean/worker/entry`; the wire format is `@glean/worker/protocol`.
 *
 * @module @glean/worker
 */
export { TRANSFER, transfer } from './protocol.js';
export type { Transferable } from './protocol.js';
export { onDispose } from './dispose.js';
export type { DisposeFn } from './dispose.js';
