/**
 * Each Glean's engine, for the parts of glean that read more of it than the public API says (the
 * status handler: whether the first load resolved, whether close() began). Internal: not exported
 * from index.ts, and nothing of it reaches an application.
 */
import type { GleanEngine } from './engine.js';
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
