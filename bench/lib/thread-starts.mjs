/**
 * Every worker thread this process starts, glean's through piscina included, seen through Node's
 * built-in `worker_threads` diagnostics channel: Node publishes `{ worker }` on it at the end of
 * each `Worker` constructor (since v16.17 and v18.7; checked on 20.20, 22.23 and 24.22). Nothing
 * is wrapped, so it sees threads started by any module, however it imported `Worker`.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { now } from './clock.mjs';

/**
 * Calls `onStart({ at, threadId })` for each thread started from now on: `at` in the shared clock
 * (lib/clock.mjs), when the constructor returned the thread to its caller. Returns the undo.
 */
export function observeThreadStarts(onStart) {
  const onMessage = ({ worker }) => onStart({ at: now(), threadId: worker.threadId });
  diagnosticsChannel.subscribe('worker_threads', onMessage);
  return () => {
    diagnosticsChannel.unsubscribe('worker_threads', onMessage);
  };
}
