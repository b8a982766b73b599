/**
 * The only place bench/ changes a Node built-in, kept because no diagnostics channel says what it
 * sees: Node 20, 22 and 24 publish nothing for the file system (their built-in channels cover
 * http, http2, net, dgram, child_process, worker_threads, console, modules, locks and quic), and
 * glean publishes nothing of its own yet.
 *
 * To be replaced by glean's own `glean.reload` channel (the observability issue) once it publishes
 * when a reload starts, before the config is read: as the `start` event of a TracingChannel, or a
 * message of its own. A message only at the commit would not do: the commit is already seen through
 * the `reload` event, and "trigger → config read" is the watcher's latency.
 *
 * glean reads every file it is given through `open` of `fs/promises` (packages/core/src/read-file.ts),
 * so that is what is wrapped; `syncBuiltinESMExports()` makes glean's own named import of it use
 * the wrapper, which costs a map lookup per open.
 */
import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

/** Absolute path → called when an open of it starts. */
const hooks = new Map();

/**
 * Starts observing glean's reads of the files it is given; returns `{ onRead(path, callback), opened(), stop() }`.
 * `onRead` replaces the callback of that path (`undefined` removes it); `opened()` is how many
 * opens (of any path) there were since the start; `stop()` puts the original `open` back.
 */
export function observeReads() {
  const original = fsPromises.open;
  let opened = 0;
  fsPromises.open = function open(file, ...rest) {
    opened++;
    hooks.get(String(file))?.();
    return original.call(this, file, ...rest);
  };
  syncBuiltinESMExports();
  return {
    onRead(path, callback) {
      if (callback === undefined) hooks.delete(path);
      else hooks.set(path, callback);
    },
    opened: () => opened,
    stop() {
      hooks.clear();
      fsPromises.open = original;
      syncBuiltinESMExports();
    },
  };
}
