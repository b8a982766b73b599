/**
 * What the host sent ahead to a worker's module hooks (see {@link ModulesAhead}): the answers to the
 * resolves and loads of an ES module's static imports, kept until Node asks for them. Each entry is
 * taken once: a second request for the same thing goes to the host as before. The host sends each
 * entry once per worker, so what this holds is at most the version's graph, and only what an import
 * that failed while linking left unasked stays (a first load that fails ends the worker), or what a
 * resolve answer carried for a module that was then never imported (`import.meta.resolve`).
 */
import type { ModuleAnswer, ModuleFormat, ModulesAhead } from './protocol.js';

/** A resolve answer given ahead: the URL, or `null` for Node's to resolve. */
type Resolution = string | null;

/** One worker's entries sent ahead, by request. */
export class SentAhead {
  /** By `specifier \0 parent` (imports only: the host sends no `require` resolution ahead). */
  readonly #resolutions = new Map<string, Resolution>();
  readonly #modules = new Map<string, { readonly format: ModuleFormat; readonly source: string }>();

  /** Keeps what `answer` carries ahead, if anything. */
  keep(answer: ModuleAnswer): void {
    const ahead = (answer as { readonly ahead?: ModulesAhead }).ahead;
    if (ahead === undefined) return;
    for (const [specifier, parent, url] of ahead.resolutions) this.#resolutions.set(`${specifier}\0${parent}`, url);
    for (const [url, format, source] of ahead.modules) this.#modules.set(url, { format, source });
  }

  /** The host's answer, sent ahead, to resolving `specifier` imported by `parent`, taken; `undefined` when none was. */
  resolution(specifier: string, parent: string): { readonly url: string } | { readonly next: true } | undefined {
    const key = `${specifier}\0${parent}`;
    const url = this.#resolutions.get(key);
    if (url === undefined) return undefined;
    this.#resolutions.delete(key);
    return url === null ? { next: true } : { url };
  }

  /** The host's answer, sent ahead, to loading `url`, taken; `undefined` when none was. */
  module(url: string): { readonly format: ModuleFormat; readonly source: string } | undefined {
    const module = this.#modules.get(url);
    if (module !== undefined) this.#modules.delete(url);
    return module;
  }

  /** How many entries wait to be asked for. */
  get size(): number {
    return this.#resolutions.size + this.#modules.size;
  }
}
