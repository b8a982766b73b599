/**
 * What one worker has been given of its version's module graph, so the host sends each module and
 * each resolution ahead at most once per worker (see `ModulesAhead` in @glean/worker's protocol):
 * what the worker asked for itself, and what went ahead. Node asks for a module it has loaded no
 * more, so one sent again would wait in the worker for nothing; and what a worker holds ahead is then
 * bounded by its version's graph. Pure bookkeeping, no threads: the graph decides what to offer.
 */
import type { ModuleFormat, ModulesAhead } from '@glean/worker/protocol';
import { LOOKUP_ENTRY_COST } from './lookups.js';

/**
 * The most characters of specifiers, URLs and sources one answer carries ahead: 8 Mi, some hundreds
 * of ordinary modules. What does not fit is not sent (nor noted as given): the worker asks for it,
 * and that answer carries the next part.
 */
export const MAX_AHEAD_CHARS = 8 * 1024 * 1024;

/**
 * How much one worker's record holds, in characters: 16 Mi, each entry costing its URL or specifier
 * plus `LOOKUP_ENTRY_COST` (what a Set or Map entry costs the host besides the string), far beyond the
 * resolutions and modules of a plugin of `MAX_PLUGIN_MODULES`. A worker may ask for ever more URLs
 * (`./x.js?1`, `./x.js?2`…, or forged requests), each a module of its own: once the record is full,
 * nothing more is sent ahead to it (every request is still answered), so the host's memory for it
 * stays bounded.
 */
export const MAX_GIVEN_CHARS = 16 * 1024 * 1024;

/** A resolution offered: `[specifier, parent, url]`, `url` `null` for Node's. */
export type AheadResolution = readonly [specifier: string, parent: string, url: string | null];
/** A module offered: `[url, format, source]`. */
export type AheadModule = readonly [url: string, format: ModuleFormat, source: string];

/** The bounds of one record; the defaults are {@link MAX_AHEAD_CHARS} and {@link MAX_GIVEN_CHARS}. */
export interface ModulesGivenLimits {
  readonly perAnswer?: number;
  readonly record?: number;
}

/** One worker's record. */
export class ModulesGiven {
  /**
   * Resolutions of imports, by importer URL, then specifier; modules by URL. Keyed by the strings the
   * graph holds anyway (URLs it resolved, specifiers it parsed), so the record adds little of its own.
   */
  readonly #resolutions = new Map<string, Set<string>>();
  readonly #modules = new Set<string>();
  readonly #perAnswer: number;
  #room: number;
  /** The record filled up: nothing is sent ahead any more, nor noted. */
  #full = false;

  constructor({ perAnswer = MAX_AHEAD_CHARS, record = MAX_GIVEN_CHARS }: ModulesGivenLimits = {}) {
    this.#perAnswer = perAnswer;
    this.#room = record;
  }

  /** The record is full: nothing more goes ahead to this worker, so there is nothing to gather for it. */
  get full(): boolean {
    return this.#full;
  }

  /** Whether the worker has the resolution of `specifier` imported by `parent`, asked for or sent ahead. */
  hasResolution(specifier: string, parent: string): boolean {
    return this.#resolutions.get(parent)?.has(specifier) === true;
  }

  /** Whether the worker has the module `url`, asked for or sent ahead. */
  hasModule(url: string): boolean {
    return this.#modules.has(url);
  }

  /** The worker has the resolution of `specifier` imported by `parent` now: it asked for it. */
  gaveResolution(specifier: string, parent: string): void {
    this.#noteResolution(specifier, parent);
  }

  /** The worker has the module `url` now: it asked for it (Node loads a URL once). */
  gaveModule(url: string): void {
    this.#noteModule(url);
  }

  /**
   * What of `resolutions` and `modules` goes ahead with one answer: those the worker does not have
   * yet, in order, within the answer's limit; each is noted as given. `undefined` when nothing does,
   * and always once the record is full.
   */
  offer(resolutions: readonly AheadResolution[], modules: readonly AheadModule[]): ModulesAhead | undefined {
    let room = this.#perAnswer;
    const sent: { resolutions: AheadResolution[]; modules: AheadModule[] } = { resolutions: [], modules: [] };
    for (const resolution of resolutions) {
      const [specifier, parent, url] = resolution;
      const cost = specifier.length + parent.length + (url?.length ?? 0);
      if (this.hasResolution(specifier, parent) || cost > room || !this.#noteResolution(specifier, parent)) continue;
      room -= cost;
      sent.resolutions.push(resolution);
    }
    for (const module of modules) {
      const cost = module[0].length + module[2].length;
      if (this.hasModule(module[0]) || cost > room || !this.#noteModule(module[0])) continue;
      room -= cost;
      sent.modules.push(module);
    }
    return sent.resolutions.length === 0 && sent.modules.length === 0 ? undefined : sent;
  }

  #noteResolution(specifier: string, parent: string): boolean {
    let specifiers = this.#resolutions.get(parent);
    if (specifiers?.has(specifier) === true) return true;
    const cost =
      specifier.length + LOOKUP_ENTRY_COST + (specifiers === undefined ? parent.length + LOOKUP_ENTRY_COST : 0);
    if (!this.#spend(cost)) return false;
    if (specifiers === undefined) {
      specifiers = new Set();
      this.#resolutions.set(parent, specifiers);
    }
    specifiers.add(specifier);
    return true;
  }

  #noteModule(url: string): boolean {
    if (this.#modules.has(url)) return true;
    if (!this.#spend(url.length + LOOKUP_ENTRY_COST)) return false;
    this.#modules.add(url);
    return true;
  }

  /** Takes `cost` from the record's room; `false` (and nothing more is sent from now on) when it has none left. */
  #spend(cost: number): boolean {
    if (this.#full || cost > this.#room) {
      this.#full = true;
      return false;
    }
    this.#room -= cost;
    return true;
  }
}
