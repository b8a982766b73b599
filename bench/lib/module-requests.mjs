/**
 * Every module request glean's host answers, counted: each is one synchronous round trip over a
 * worker's module channel (packages/core/src/modules/ports.ts asks the version's `ModuleGraph` to
 * answer it). glean publishes nothing for these, so the bench wraps `ModuleGraph.prototype.answer`
 * of the built core it runs; nothing else in glean is changed. To give way to a diagnostics channel
 * of glean's, should it get one.
 */
import { now } from './clock.mjs';

/** The built core's module graph, the file `@glean/core` loads it from. */
const GRAPH = new URL('./modules/graph.js', import.meta.resolve('@glean/core')).href;

/**
 * Starts counting; returns `{ take(), stop() }`. `take()` returns `{ resolve, load, firstAt }`
 * since the last take (`firstAt`: when the first of them arrived, in the shared clock) and starts
 * again from zero; `stop()` puts the original method back.
 */
export async function observeModuleRequests() {
  const { ModuleGraph } = await import(GRAPH);
  const original = ModuleGraph.prototype.answer;
  let counts = { resolve: 0, load: 0, firstAt: undefined };
  ModuleGraph.prototype.answer = function answer(request, ...rest) {
    counts.firstAt ??= now();
    if (request?.op === 'load') counts.load++;
    else counts.resolve++;
    return original.call(this, request, ...rest);
  };
  return {
    take() {
      const taken = counts;
      counts = { resolve: 0, load: 0, firstAt: undefined };
      return taken;
    },
    stop() {
      ModuleGraph.prototype.answer = original;
    },
  };
}
