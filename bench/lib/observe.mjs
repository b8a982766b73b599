/**
 * Seeing from outside what glean does, for the reload benchmarks; glean is not changed.
 * `observeReads`: when glean opens a config file to read it. `observeWorkerStarts`: every thread
 * started, and how long its constructor held the caller.
 */
import fsPromises from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);

/** Wall-clock ms in the clock every thread of this process shares (`performance.timeOrigin` is per process). */
export const now = () => performance.timeOrigin + performance.now();

/** Absolute path → called when a read of it starts. */
const hooks = new Map();

/**
 * glean reads every file it is given through `open` of `fs/promises` (packages/core/src/read-file.ts),
 * so that is what is wrapped; `syncBuiltinESMExports()` makes glean's own named import of it use the
 * wrapper, which costs a map lookup per open.
 * Starts observing reads; returns `{ onRead(path, callback), stop() }`. `onRead` replaces the
 * callback of that path (`undefined` removes it); `stop()` puts the original `open` back.
 */
export function observeReads() {
  const original = fsPromises.open;
  fsPromises.open = function open(file, ...rest) {
    hooks.get(String(file))?.();
    return original.call(this, file, ...rest);
  };
  syncBuiltinESMExports();
  return {
    onRead(path, callback) {
      if (callback === undefined) hooks.delete(path);
      else hooks.set(path, callback);
    },
    stop() {
      hooks.clear();
      fsPromises.open = original;
      syncBuiltinESMExports();
    },
  };
}

/**
 * Seeing every worker thread this process starts (glean's through piscina included: piscina reads
 * `Worker` from `node:worker_threads` at each start). `worker_threads.Worker` is replaced by a
 * subclass that calls `onStart({ at, callMs })` after each constructor: when, and how long the
 * constructor held the calling thread. Returns the undo.
 */
export function observeWorkerStarts(onStart) {
  const workerThreads = require('node:worker_threads');
  const Original = workerThreads.Worker;
  workerThreads.Worker = class Worker extends Original {
    constructor(...args) {
      const start = performance.now();
      super(...args);
      onStart({ at: performance.timeOrigin + start, callMs: performance.now() - start });
    }
  };
  return () => {
    workerThreads.Worker = Original;
  };
}
