/**
 * What one version's module graph looked up besides its modules, each once: the package.json and
 * tsconfig.json files (and `extends` chains) that decide how a module loads and compiles, the files
 * it tried and did not find, the symlinks on the way, and what Node resolved through a package.json.
 * All of it is part of the version's identity, and a plugin decides how much of it there is, so what
 * is kept is bounded ({@link MAX_LOOKUP_BUDGET}).
 */
import { basename, dirname, join } from 'node:path';
import { hashBytes } from '../content.js';
import { type GleanError, isGleanError } from '../errors.js';
import { readProblem } from '../read-file.js';
import type { PackageType } from './format.js';
import type { ConfigReads } from './shared-reads.js';
import { loadTypeScriptSettings, type TypeScriptSettings } from './tsconfig.js';

/**
 * How much a version may make the host remember of its lookups, in characters (each entry costs its
 * path or key plus {@link LOOKUP_ENTRY_COST}): the resolutions it asked for, the files it found absent
 * and the config files read on its behalf are kept for the version's life (they are part of its
 * identity), so a plugin that asks for ever more specifiers (`import('./x' + i)`, or forged requests
 * on its module channel) would grow the host's heap, and the fs work of every next lookup, without
 * bound. 32 Mi is some 150,000 lookups of ordinary paths: far beyond a plugin of 10,000 modules.
 */
export const MAX_LOOKUP_BUDGET = 32 * 1024 * 1024;
/** What an entry a version keeps costs the host beyond its key's characters (a Map or Set entry and its string's header), in characters. */
export const LOOKUP_ENTRY_COST = 64;

/** How lookups report: a coded error for the version, and a new entry (for the watcher once the version loaded). */
export interface LookupEvents {
  error(message: string, cause?: unknown): GleanError;
  grew(): void;
}

/** One version's lookups. */
export class Lookups {
  /** Files read to decide how modules resolve or compile, and files tried and not found: hash, or `null` for absent. */
  readonly #consulted = new Map<string, string | null>();
  readonly #configReads = new Map<string, Promise<string | undefined>>();
  /** Paths as resolved that led to a module through a symlink: the link and where it led. */
  readonly #links = new Map<string, string>();
  /** What Node resolved through a package.json (a `resolved` request), as first met: key to URL. */
  readonly #kept = new Map<string, string>();
  readonly #packageTypes = new Map<string, Promise<PackageType>>();
  readonly #typescript = new Map<string, Promise<TypeScriptSettings | undefined>>();
  readonly #events: LookupEvents;
  readonly #reads: ConfigReads;
  #budget = MAX_LOOKUP_BUDGET;

  constructor(events: LookupEvents, reads: ConfigReads) {
    this.#events = events;
    this.#reads = reads;
  }

  /** The lookups as identity lines, for the graph's hash. */
  identity(): string[] {
    const lines: string[] = [];
    for (const [file, hash] of this.#consulted) lines.push(`c\0${file}\0${hash ?? '-'}`);
    for (const [link, real] of this.#links) lines.push(`l\0${link}\0${real}`);
    for (const [key, url] of this.#kept) lines.push(`r\0${key}\0${url}`);
    return lines;
  }

  /** Every path looked up (config files, files tried, links): to watch. */
  paths(): string[] {
    return [...this.#consulted.keys(), ...this.#links.keys()];
  }

  /**
   * Config files and files tried whose state changed, and links that lead elsewhere now
   * (`resolveLink`: where a link leads now, `undefined` when nowhere inside the root). `reads`: the
   * checking generation's, which the versions it starts then share.
   */
  async changes(resolveLink: (link: string) => Promise<string | undefined>, reads: ConfigReads): Promise<string[]> {
    const changed: string[] = [];
    await Promise.all([
      ...[...this.#consulted].map(async ([file, hash]) => {
        const now = await reads.read(file).then(hashBytes, () => null);
        if (now !== hash) changed.push(file);
      }),
      ...[...this.#links].map(async ([link, real]) => {
        if ((await resolveLink(link)) !== real) changed.push(link);
      }),
    ]);
    return changed;
  }

  /** What the version kept for a resolution Node made through a package.json, if any. */
  kept(key: string): string | undefined {
    return this.#kept.get(key);
  }

  /** Keeps `url` for the resolution `key` (the first answer stands); resolves with what is kept. Reads the package scope of `folder`, which Node read for it. */
  async keep(key: string, url: string, folder: string): Promise<string> {
    const kept = this.#kept.get(key);
    if (kept !== undefined) return kept;
    this.spend(key);
    // The package scope Node read: a change to its "imports" or "exports" is a change of the version.
    await this.packageType(folder);
    this.#kept.set(key, url);
    this.#events.grew();
    return url;
  }

  /** Notes that `candidate` led to `real` through a symlink. */
  link(candidate: string, real: string): void {
    if (this.#links.get(candidate) === real) return;
    this.#links.set(candidate, real);
    this.#events.grew();
  }

  /** Notes `candidate` as tried and not found (part of the version's identity), within the lookup budget. */
  absent(candidate: string): void {
    if (this.#consulted.has(candidate)) return;
    this.spend(candidate);
    this.#consult(candidate, null);
  }

  /** Takes what remembering `entry` costs from the version's lookup budget; throws once it is spent. */
  spend(entry: string): void {
    const cost = entry.length + LOOKUP_ENTRY_COST;
    if (cost > this.#budget)
      throw this.#events.error(
        `looks up more files and specifiers than a plugin may (${MAX_LOOKUP_BUDGET} characters of lookups a version keeps); no more can be resolved in this version`,
      );
    this.#budget -= cost;
  }

  /** The `type` of the package.json nearest to `folder`, as Node reads it for a `.js` file (or `.ts`). */
  packageType(folder: string): Promise<PackageType> {
    let type = this.#packageTypes.get(folder);
    if (type === undefined) {
      type = (async (): Promise<PackageType> => {
        const file = join(folder, 'package.json');
        const text = await this.#readConfig(file);
        if (text === undefined) {
          const up = dirname(folder);
          return up === folder || basename(folder) === 'node_modules' ? undefined : this.packageType(up);
        }
        let data: unknown;
        try {
          data = JSON.parse(text);
        } catch (error) {
          throw this.#events.error(`${file} is not valid JSON: ${(error as Error).message}`, error);
        }
        const field = (data as { type?: unknown } | null)?.type;
        return field === 'module' || field === 'commonjs' ? field : undefined;
      })();
      this.#packageTypes.set(folder, type);
    }
    return type;
  }

  /** The `main` of `folder`'s own package.json (not a parent's), as Node's `require` of a folder reads it; `undefined` without one. */
  async packageMain(folder: string): Promise<string | undefined> {
    const file = join(folder, 'package.json');
    const text = await this.#readConfig(file);
    if (text === undefined) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw this.#events.error(`${file} is not valid JSON: ${(error as Error).message}`, error);
    }
    const main = (data as { main?: unknown } | null)?.main;
    return typeof main === 'string' && main !== '' ? main : undefined;
  }

  /** The TypeScript settings for modules in `folder`: its nearest tsconfig.json's, or none. */
  settings(folder: string): Promise<TypeScriptSettings | undefined> {
    let settings = this.#typescript.get(folder);
    if (settings === undefined) {
      settings = (async (): Promise<TypeScriptSettings | undefined> => {
        const file = join(folder, 'tsconfig.json');
        if ((await this.#readConfig(file)) === undefined) {
          const up = dirname(folder);
          return up === folder || basename(folder) === 'node_modules' ? undefined : this.settings(up);
        }
        try {
          return await loadTypeScriptSettings(file, (path) => this.#readConfig(path));
        } catch (error) {
          throw isGleanError(error)
            ? error
            : this.#events.error(`cannot use ${file}: ${(error as Error).message}`, error);
        }
      })();
      this.#typescript.set(folder, settings);
    }
    return settings;
  }

  /** A config file's text, read once per version and noted (hash, or absent); `undefined` when it does not exist. */
  #readConfig(file: string): Promise<string | undefined> {
    let read = this.#configReads.get(file);
    if (read === undefined) {
      this.spend(file);
      read = this.#reads.read(file).then(
        (bytes) => {
          this.#consult(file, hashBytes(bytes));
          return bytes.toString('utf8');
        },
        (error: unknown) => {
          const errno = (error as { code?: unknown }).code;
          if (errno === 'ENOENT' || errno === 'ENOTDIR') {
            this.#consult(file, null);
            return undefined;
          }
          throw this.#events.error(`cannot read ${file} (${readProblem(error)})`, error);
        },
      );
      this.#configReads.set(file, read);
    }
    return read;
  }

  /** Notes a file that decided how a module resolves or compiles: its hash, or `null` for absent. */
  #consult(file: string, hash: string | null): void {
    const known = this.#consulted.has(file) && this.#consulted.get(file) === hash;
    this.#consulted.set(file, hash);
    // A later import that found nothing is watched too: the file it tried, once created, is a new version.
    if (!known) this.#events.grew();
  }
}
