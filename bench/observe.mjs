/**
 * Seeing, from outside, when glean starts to read a config file: `readFile` of `fs/promises` is
 * wrapped, and `syncBuiltinESMExports()` makes glean's own named import of it use the wrapper.
 * Bench only; glean is not changed, and the wrapper costs a map lookup per read.
 */
import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';

/** Wall-clock ms in the clock every thread of this process shares (`performance.timeOrigin` is per process). */
export const now = () => performance.timeOrigin + performance.now();

/** Absolute path → called when a read of it starts. */
const hooks = new Map();

/**
 * Starts observing reads; returns `{ onRead(path, callback), stop() }`. `onRead` replaces the
 * callback of that path (`undefined` removes it); `stop()` puts the original `readFile` back.
 */
export function observeReads() {
  const original = fsPromises.readFile;
  fsPromises.readFile = function readFile(file, ...rest) {
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
      fsPromises.readFile = original;
      syncBuiltinESMExports();
    },
  };
}
