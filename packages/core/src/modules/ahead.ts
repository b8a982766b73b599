/**
 * What one worker has been given of its version's module graph, so the host sends each module and
 * each resolution ahead at most once per worker (see `ModulesAhead` in @glean/worker's protocol):
 * what the worker asked for itself, and what went ahead. Node asks for a module it has loaded no
 * more, so one sent again would wait in the worker for nothing; and what a worker holds ahead is then
 * bounded by its version's graph. Pure bookkeeping, no threads: the graph decides what to offer.
 */
import type { ModuleFormat, ModulesAhead } from '@glean/worker/protocol';

/**
 * The most characters of specifiers, URLs and sources one answer carries ahead: 8 Mi, some hundreds
 * of ordinary modules. What does not fit is not sent (nor noted as given): the worker asks for it,
 * and that answer carries the next part.
 */
export const MAX_AHEAD_CHARS = 8 * 1024 * 1024;

/**
 * The most characters of keys one worker's record holds: 16 Mi, far beyond the resolutions and
 * modules of a plugin of `MAX_PLUGIN_MODULES`. A worker may ask for ever more URLs (`./x.js?1`,
 * `./x.js?2`…, or forged requests), each a module of its own: once the record is full, nothing more
 * is sent ahead to it (every request is still answered), so the host's memory for it stays bounded.
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
  readonly #given = new Set<string>();
  readonly #perAnswer: number;
  #room: number;
  /** The record filled up: nothing is sent ahead any more, nor noted. */
  #full = false;

  constructor({ perAnswer = MAX_AHEAD_CHARS, record = MAX_GIVEN_CHARS }: ModulesGivenLimits = {}) {
    this.#perAnswer = perAnswer;
    this.#room = record;
  }

  /** Whether the worker has the resolution `key` (as the graph keys them), asked for or sent ahead. */
  hasResolution(key: string): boolean {
    return this.#given.has(`r\0${key}`);
  }

  /** Whether the worker has the module `url`, asked for or sent ahead. */
  hasModule(url: string): boolean {
    return this.#given.has(`m\0${url}`);
  }

  /** The worker has the resolution `key` now: it asked for it. */
  gaveResolution(key: string): void {
    this.#note(`r\0${key}`);
  }

  /** The worker has the module `url` now: it asked for it (Node loads a URL once). */
  gaveModule(url: string): void {
    this.#note(`m\0${url}`);
  }

  /**
   * What of `resolutions` and `modules` (`key`: how the graph keys a resolution) goes ahead with one
   * answer: those the worker does not have yet, in order, within the answer's limit; each is noted as
   * given. `undefined` when nothing does, and always once the record is full.
   */
  offer(
    resolutions: readonly { readonly key: string; readonly entry: AheadResolution }[],
    modules: readonly AheadModule[],
  ): ModulesAhead | undefined {
    let room = this.#perAnswer;
    const sent: { resolutions: AheadResolution[]; modules: AheadModule[] } = { resolutions: [], modules: [] };
    for (const { key, entry } of resolutions) {
      const cost = entry[0].length + entry[1].length + (entry[2]?.length ?? 0);
      if (this.hasResolution(key) || cost > room || !this.#note(`r\0${key}`)) continue;
      room -= cost;
      sent.resolutions.push(entry);
    }
    for (const module of modules) {
      const cost = module[0].length + module[2].length;
      if (this.hasModule(module[0]) || cost > room || !this.#note(`m\0${module[0]}`)) continue;
      room -= cost;
      sent.modules.push(module);
    }
    return sent.resolutions.length === 0 && sent.modules.length === 0 ? undefined : sent;
  }

  /** Notes `entry` as given; `false` (and nothing more is sent from now on) when the record has no room for it. */
  #note(entry: string): boolean {
    if (this.#full) return false;
    if (this.#given.has(entry)) return true;
    if (entry.length > this.#room) {
      this.#full = true;
      return false;
    }
    this.#room -= entry.length;
    this.#given.add(entry);
    return true;
  }
}
