/**
 * Each Glean's engine, for the parts of glean that read more of it than the public API says (the
 * status handler: whether the first load resolved, whether close() began). Internal: not exported
 * from index.ts, and nothing of it reaches an application.
 */
import type { GleanEngine } from './engine.js';

const ENGINES = new WeakMap<object, GleanEngine>();

/** Called once by each Glean, as it is made. */
export function registerEngine(glean: object, engine: GleanEngine): void {
  ENGINES.set(glean, engine);
}

/** The engine of `glean`, or `undefined` for anything that is not a Glean. */
export function engineOf(glean: unknown): GleanEngine | undefined {
  return typeof glean === 'object' && glean !== null ? ENGINES.get(glean) : undefined;
}
