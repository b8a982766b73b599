/**
 * Each Glean's engine, for the parts of glean that read more of it than the public API says (the
 * status handler: whether the first load resolved, whether close() began). Internal: not exported
 * from index.ts, and nothing of it reaches an application.
 */
import type { CallObserver } from './call-stats.js';
import type { GleanEngine } from './engine.js';
import type { GleanError } from './errors.js';
import type { Glean } from './glean.js';

const ENGINES = new WeakMap<object, GleanEngine>();
/** Each Glean by its engine's handle owner: what a traced call names as its `glean` (channels.ts). */
const GLEANS = new WeakMap<object, Glean>();

/** Called once by each Glean, as it is made. */
export function registerEngine(glean: Glean, engine: GleanEngine): void {
  ENGINES.set(glean, engine);
  GLEANS.set(engine.owner, glean);
}

/** The Glean whose handles have `owner`, or `undefined` (loadSymbol's handles). */
export function gleanOf(owner: object): Glean | undefined {
  return GLEANS.get(owner);
}

/** The engine of `glean`, or `undefined` for anything that is not a Glean. */
export function engineOf(glean: unknown): GleanEngine | undefined {
  return typeof glean === 'object' && glean !== null ? ENGINES.get(glean) : undefined;
}

/**
 * Tells `observer` of every call `engine`'s handles make, where they are counted (call-stats.ts): what
 * the metrics count, at the cost of one tracker per call while registered. Returns the call that stops it.
 */
export function observeCalls(engine: GleanEngine, observer: CallObserver): () => void {
  const observers = engine.owner.observers as Set<CallObserver>;
  observers.add(observer);
  return () => void observers.delete(observer);
}

/**
 * Calls `listener` with the error of every failed reload of `engine` (a watcher's run or a
 * `reloadConfig()` caller's), whether or not an `error` listener hears it: what the metrics count
 * (an `error` listener of their own would silence the logger). Returns the call that stops it.
 */
export function onReloadFailed(engine: GleanEngine, listener: (error: GleanError) => void): () => void {
  const entry = (error: GleanError): void => listener(error);
  engine.reloadFailures.add(entry);
  return () => void engine.reloadFailures.delete(entry);
}
