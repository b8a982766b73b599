/**
 * The module graph of one plugin version: every plugin-owned module its workers loaded, read once
 * from disk, confined to the root, hashed, compiled if it is TypeScript, and served to every worker
 * of the version from then on (first loads, restarts, later dynamic imports alike), so one version
 * runs one code. It also keeps what decided how each module resolves and compiles (package.json and
 * tsconfig.json files, and the files tried and not found), which is the rest of the version's
 * identity: {@link ModuleGraph.changes} tells a generation whether any of it changed on disk.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { dirname, extname, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  asksHost,
  isPluginOwned,
  isTypeScriptFile,
  type ModuleAnswer,
  type ModuleFormat,
  type ModuleRequest,
  type ModulesAhead,
} from '@glean/worker/protocol';
import type { AheadModule, AheadResolution, ModulesGiven } from './ahead.js';
import { hashBytes } from '../content.js';
import { hashForIntegrity } from '../integrity.js';
import { type ModuleIntegrity, checkModule } from '../module-integrity.js';
import { ErrorCode, GleanError, isGleanError } from '../errors.js';
import { type PluginRef, describePlugin, pluginError } from '../plugin-ref.js';
import { MAX_PLUGIN_FILE_BYTES, readRegularFile } from '../read-file.js';
import { confine, readConfined } from '../root.js';
import { EXTENSIONLESS, candidatesFor, isPathSpecifier, mainCandidates } from './candidates.js';
import { compileTypeScript, syntaxErrorIn } from './compile.js';
import { detectFormat, formatByName, unknownExtension } from './format.js';
import * as lexer from 'es-module-lexer';
import { Lookups } from './lookups.js';
import { type ConfigReads, DIRECT_READS } from './shared-reads.js';
import { matchPaths } from './tsconfig.js';

/** The most plugin-owned modules one version may load: far beyond any plugin, a bound on what a hostile one makes the host hold. */
export const MAX_PLUGIN_MODULES = 10_000;

/** A plugin-owned module as served. */
interface Served {
  readonly realPath: string;
  /** SHA-256 of the bytes read, before any compile. */
  readonly hash: string;
  /** The same bytes' integrity value (`sha384-…`), what a lockfile lists. */
  readonly integrity: string;
  readonly format: ModuleFormat;
  /** The JavaScript (or JSON) the workers run. */
  readonly source: string;
}

/** What a graph is made for. */
export interface ModuleGraphOptions {
  /** The plugin root as configured (absolute). */
  readonly root: string;
  /** The root's real path as a `file:` URL, no trailing slash (see `isPluginOwned`). */
  readonly rootURL: string;
  /** The version, for error messages. */
  readonly plugin: PluginRef;
  /** The plugin file, read and checked: its real path, and the bytes the version runs. */
  readonly entry: { readonly realPath: string; readonly bytes: Uint8Array };
  /** What every other module is checked against before a byte of it is served. */
  readonly integrity: ModuleIntegrity;
  /**
   * A file joined the graph after the version's first load (a later dynamic import's module, or a
   * file it read or tried and did not find): its watch should follow.
   */
  readonly onGrow?: (() => void) | undefined;
  /** How its package.json and tsconfig.json files are read: through the generation that made the version (shared-reads.ts). Default: from disk. */
  readonly reads?: ConfigReads | undefined;
}

/** Errors a load reports as they are rather than as the import's failure: the host refused a module. */
const REFUSALS = [ErrorCode.OUTSIDE_ROOT, ErrorCode.INTEGRITY_MISMATCH, ErrorCode.INTEGRITY_REQUIRED] as const;

/** Why a module request failed, for the worker: a code and a message. */
class ModuleFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One plugin version's modules. */
export class ModuleGraph {
  readonly #options: ModuleGraphOptions;
  /** By real path (URLs that differ in query alone are one file). */
  readonly #modules = new Map<string, Promise<Served>>();
  readonly #served = new Map<string, Served>();
  /** Successful resolutions, so every worker of the version resolves a specifier alike. */
  readonly #resolved = new Map<string, Promise<string | undefined>>();
  /** Candidate files looked up during the version's first load, shared (see `#existing`). */
  readonly #candidates = new Map<string, Promise<string | undefined>>();
  /** Each ES module's static import specifiers that a worker asks the host to resolve (es-module-lexer), found once. */
  readonly #imports = new WeakMap<Served, Promise<readonly string[]>>();
  /** What decided how its modules resolve and compile (see lookups.ts). */
  readonly #lookups: Lookups;
  #sealed = false;
  /** Why the plugin file's read or compile, as {@link entryFormat} started it, failed. */
  #entryFailure: GleanError | undefined;
  #rootReal: Promise<string | undefined> | undefined;
  /** {@link ModuleGraph.hash}, until the graph grows. */
  #hash: string | undefined;

  constructor(options: ModuleGraphOptions) {
    this.#options = options;
    this.#lookups = new Lookups(
      {
        error: (message, cause) => this.#error(message, cause),
        // A file that joins after the first load is watched too: once changed (or created), it is a new version.
        grew: () => this.#grew(),
      },
      options.reads ?? DIRECT_READS,
    );
  }

  /** How many plugin-owned modules the version loaded so far. */
  get size(): number {
    return this.#served.size;
  }

  /** The identity of what the version runs: SHA-256 over every module's bytes and every file that decided how one resolves or compiles. */
  get hash(): string {
    if (this.#hash === undefined) {
      const lines: string[] = [];
      for (const served of this.#served.values()) lines.push(`m\0${served.realPath}\0${served.hash}`);
      lines.push(...this.#lookups.identity());
      this.#hash = createHash('sha256').update(lines.sort().join('\n')).digest('hex');
    }
    return this.#hash;
  }

  /** Something joined the graph: its hash is taken anew, and once the version loaded, its watch follows. */
  #grew(): void {
    this.#hash = undefined;
    if (this.#sealed) this.#options.onGrow?.();
  }

  /** Each module loaded so far: its real path and integrity value, for a lockfile. */
  modules(): { readonly realPath: string; readonly integrity: string }[] {
    return [...this.#served.values()].map(({ realPath, integrity }) => ({ realPath, integrity }));
  }

  /** Every path whose change would change what the version runs: to watch. */
  files(): string[] {
    return [...new Set([...this.#served.keys(), ...this.#lookups.paths()])];
  }

  /** The root's real path, taken once per version (every module is confined to it); `undefined` when it cannot be resolved (confine then says why). */
  #realRoot(): Promise<string | undefined> {
    this.#rootReal ??= realpath(this.#options.root).catch(() => undefined);
    return this.#rootReal;
  }

  /** The version's first load is done: a file that joins the graph from now on is reported through `onGrow`. */
  seal(): void {
    this.#sealed = true;
    this.#candidates.clear();
  }

  /**
   * The first JavaScript module served that does not parse, as `file:line:column: why`: what a load
   * that failed with V8's `SyntaxError` (which names no file) failed on. TypeScript modules are not
   * looked at: their compile names them.
   */
  async syntaxError(): Promise<string | undefined> {
    for (const { realPath, format, source } of this.#served.values()) {
      if (format === 'json' || isTypeScriptFile(realPath)) continue;
      const where = await syntaxErrorIn(source, format);
      if (where !== undefined) return `${realPath}:${where}`;
    }
    return undefined;
  }

  /**
   * How the workers load the plugin file. Its read and compile start now; when its name and package
   * type decide the format, the answer does not wait for them, so a TypeScript compile runs while the
   * worker is on its way to asking for the module (the worker's request then waits for the same
   * compile). Only a file whose syntax decides its format waits for it here. Rejects
   * `GLEAN_LOAD_FAILED` when that wait fails; otherwise a failed read or compile is what
   * {@link entryFailure} gives.
   */
  async entryFormat(): Promise<ModuleFormat> {
    const file = this.#options.entry.realPath;
    const served = this.#module(file);
    served.catch((error: unknown) => {
      if (error instanceof GleanError) this.#entryFailure = error;
    });
    const byName = formatByName(
      file,
      /\.[jt]sx?$/.test(file) ? await this.#lookups.packageType(dirname(file)) : undefined,
    );
    return byName === 'detect' ? (await served).format : byName;
  }

  /** Why the plugin file could not be read or compiled, once that attempt (started by {@link entryFormat}) has failed; else `undefined`. */
  entryFailure(): GleanError | undefined {
    return this.#entryFailure;
  }

  /**
   * Answers one request of a worker's. Never rejects: a failure is an answer with an `error`; when the
   * host refused the module (`GLEAN_OUTSIDE_ROOT`, `GLEAN_INTEGRITY_MISMATCH`, `GLEAN_INTEGRITY_REQUIRED`),
   * `refusal` is that error, for the worker's load to report as it is rather than as the import's failure.
   * With `given` (what the asking worker has), an answer to an `import` that gives a module, or a URL
   * that leads to one, carries ahead what the worker will ask next (see `#ahead`).
   */
  async answer(
    request: ModuleRequest,
    given?: ModulesGiven,
  ): Promise<ModuleAnswer & { readonly refusal?: GleanError }> {
    const { seq } = request;
    try {
      if (request.op === 'load') {
        const served = await this.#load(request.url, request.require);
        given?.gaveModule(request.url);
        const answer = { seq, format: served.format, source: served.source };
        const ahead =
          given === undefined || request.require ? undefined : await this.#ahead(given, request.url, served);
        return ahead === undefined ? answer : { ...answer, ahead };
      }
      if (request.op === 'resolved')
        return { seq, url: await this.#keep(request.specifier, request.parent, request.require, request.url) };
      const url = await this.#resolve(request.specifier, request.parent, request.require);
      if (!request.require) given?.gaveResolution(request.specifier, request.parent);
      if (url === undefined) return { seq, next: true };
      const ahead = given === undefined || request.require ? undefined : await this.#ahead(given, url);
      return ahead === undefined ? { seq, url } : { seq, url, ahead };
    } catch (error) {
      const code = error instanceof ModuleFailure || error instanceof GleanError ? error.code : ErrorCode.LOAD_FAILED;
      const answer = { seq, error: { code, message: error instanceof Error ? error.message : String(error) } };
      return REFUSALS.some((refused) => isGleanError(error, refused))
        ? { ...answer, refusal: error as GleanError }
        : answer;
    }
  }

  /**
   * The files of this graph that no longer hold what the version runs, or would now resolve or compile
   * differently: changed, removed, retargeted, or created where the version found nothing. `[]` when
   * the version would run the same code if loaded again now. `reads`: the checking generation's, which
   * the versions it starts share (see shared-reads.ts).
   *
   * A changed TypeScript module starts compiling here, with this version's settings for it: the
   * version that replaces it will most likely ask for the same compile (the same bytes, the same
   * tsconfig) a few milliseconds later, and then finds it under way or done in the compile cache
   * instead of waiting for it. Only the cache is warmed; what the next version runs is what it reads,
   * checks and compiles for itself.
   */
  async changes(reads: ConfigReads = DIRECT_READS): Promise<string[]> {
    const changed: string[] = [];
    const realRoot = await this.#realRoot();
    const [, looked] = await Promise.all([
      Promise.all(
        [...this.#served.values()].map(async ({ realPath, hash }) => {
          const bytes = await readRegularFile(realPath, MAX_PLUGIN_FILE_BYTES, { follow: false }).catch(
            () => undefined,
          );
          if (bytes !== undefined && hashBytes(bytes) === hash) return;
          changed.push(realPath);
          if (bytes !== undefined && isTypeScriptFile(realPath)) this.#compiled(realPath, bytes).catch(() => {});
        }),
      ),
      this.#lookups.changes((link) => confine(link, this.#options.root, {}, realRoot).catch(() => undefined), reads),
    ]);
    return [...new Set([...changed, ...looked])].sort();
  }

  async #load(url: string, require: boolean): Promise<Served> {
    if (!isPluginOwned(url, this.#options.rootURL))
      throw new ModuleFailure(
        ErrorCode.LOAD_FAILED,
        `${url} is not a plugin-owned module of ${this.#options.plugin.file}`,
      );
    let file: string;
    try {
      file = fileURLToPath(url);
    } catch (error) {
      throw new ModuleFailure(
        ErrorCode.LOAD_FAILED,
        `${url} is not a file URL glean can load: ${(error as Error).message}`,
      );
    }
    if (extname(file) === '.node')
      throw this.#error(
        `${file} is a native addon inside the plugin root: glean serves a plugin's own modules from the bytes it read, and Node loads an addon only from disk; install it as a package (in node_modules)`,
      );
    if (!require && unknownExtension(file))
      throw new ModuleFailure('ERR_UNKNOWN_FILE_EXTENSION', `Unknown file extension "${extname(file)}" for ${file}`);
    return this.#module(file);
  }

  #module(file: string): Promise<Served> {
    let served = this.#modules.get(file);
    if (served === undefined) {
      if (this.#modules.size >= MAX_PLUGIN_MODULES)
        throw this.#error(`loads more than ${MAX_PLUGIN_MODULES} modules; ${file} is one too many`);
      served = this.#read(file);
      this.#modules.set(file, served);
      // A failed read is not kept: the plugin may import the file again once it is fixed.
      served.then(
        (done) => {
          this.#served.set(file, done);
          this.#grew();
        },
        () => this.#modules.delete(file),
      );
    }
    return served;
  }

  async #read(file: string): Promise<Served> {
    const { entry, root, plugin } = this.#options;
    const isEntry = file === entry.realPath;
    const bytes = isEntry
      ? entry.bytes
      : (await readConfined(file, root, { id: plugin.id, version: plugin.version }, await this.#realRoot())).bytes;
    // The plugin file was checked with the config; every other module is checked here, before a byte of it runs.
    if (!isEntry) checkModule(bytes, file, plugin, this.#options.integrity);
    const hash = hashBytes(bytes);
    let compiled: { byName: ModuleFormat | 'detect'; source: string };
    try {
      compiled = await this.#compiled(file, bytes);
    } catch (error) {
      throw this.#error(`cannot compile ${file}: ${(error as Error).message}`, error);
    }
    const { byName, source } = compiled;
    const format = byName === 'detect' ? await detectFormat(source, file) : byName;
    const served = { realPath: file, hash, integrity: hashForIntegrity(bytes), format, source };
    if (format === 'module') this.#prefetch(served);
    return served;
  }

  /**
   * The source the workers get for `bytes` of `file`, and the format its name and package type give:
   * the text without a byte order mark (Node drops one before it compiles; so must the host), compiled
   * if it is TypeScript with the settings of its tsconfig chain. Rejects with the compiler's error.
   */
  async #compiled(file: string, bytes: Uint8Array): Promise<{ byName: ModuleFormat | 'detect'; source: string }> {
    let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const byName = formatByName(
      file,
      /\.[jt]sx?$/.test(file) ? await this.#lookups.packageType(dirname(file)) : undefined,
    );
    if (!isTypeScriptFile(file)) return { byName, source: text };
    const settings = await this.#lookups.settings(dirname(file));
    const source = await compileTypeScript({
      file,
      source: text,
      format: byName === 'detect' || byName === 'json' ? undefined : byName,
      compilerOptions: settings?.compilerOptions ?? {},
    });
    return { byName, source };
  }

  /**
   * Starts reading the plugin-owned modules an ES module imports statically, while the worker is
   * still on its way to asking for them: Node links every static import before it evaluates, so they
   * are this version's modules whatever comes, and the worker's requests for them then find them read
   * and compiled, instead of waiting for each in turn. What fails here is left for the worker's own
   * request to meet (and report).
   */
  #prefetch(served: Served): void {
    const parent = pathToFileURL(served.realPath).href;
    void this.#staticImports(served).then((specifiers) => {
      for (const specifier of specifiers)
        void this.#resolve(specifier, parent, false)
          .then((url) => {
            if (url === undefined || !isPluginOwned(url, this.#options.rootURL)) return;
            const path = fileURLToPath(url);
            if (!this.#modules.has(path) && this.#modules.size < MAX_PLUGIN_MODULES)
              void this.#module(path).catch(() => {});
          })
          .catch(() => {});
    });
  }

  /** The specifiers an ES module imports statically that a worker asks the host to resolve, each once; `[]` when the lexer cannot read it. */
  #staticImports(served: Served): Promise<readonly string[]> {
    let imports = this.#imports.get(served);
    if (imports === undefined) {
      imports = lexer.init.then(() => {
        try {
          const specifiers = new Set<string>();
          for (const { n: specifier, d: kind } of lexer.parse(served.source)[0])
            if (kind === -1 && specifier !== undefined && asksHost(specifier)) specifiers.add(specifier);
          return [...specifiers];
        } catch {
          return [];
        }
      });
      this.#imports.set(served, imports);
    }
    return imports;
  }

  /**
   * What goes ahead with an answer that gives a worker the module `url` (`served`: the module itself,
   * when the answer is its load; else it is read here if plugin-owned): the resolution of each of its
   * static imports, the plugin-owned modules they lead to, and theirs, through the static graph, as far
   * as the worker does not have them (`given`). Node resolves and loads all of them before it evaluates
   * the module, so the answer waits for the host to resolve, read, check and compile them (in
   * parallel; most were started by `#prefetch`) rather than the worker asking for
   * each in turn. Every resolution is made with the key the worker's own request would carry (the
   * importer's URL as Node gives it, `import`), so it is recorded and answered as that request would
   * be; what fails is left out, for the worker's own request to meet (and report) as before.
   */
  async #ahead(given: ModulesGiven, url: string, served?: Served): Promise<ModulesAhead | undefined> {
    // A full record takes nothing more: walking the graph for it would be work for every request, for nothing.
    if (given.full) return undefined;
    const resolutions: AheadResolution[] = [];
    const modules: AheadModule[] = [];
    const seen = new Set<string>();
    const visit = async (target: string, known?: Served): Promise<void> => {
      if (seen.has(target)) return;
      seen.add(target);
      let module = known;
      if (module === undefined) {
        if (!isPluginOwned(target, this.#options.rootURL) || given.hasModule(target)) return;
        try {
          module = await this.#load(target, false);
        } catch {
          return;
        }
        modules.push([target, module.format, module.source]);
      }
      if (module.format !== 'module') return;
      const specifiers = await this.#staticImports(module);
      await Promise.all(
        specifiers.map(async (specifier) => {
          const key = resolutionKey(specifier, target, false);
          if (given.hasResolution(specifier, target) || seen.has(key)) return;
          seen.add(key);
          let resolved: string | undefined;
          try {
            resolved = await this.#resolve(specifier, target, false);
          } catch {
            return;
          }
          resolutions.push([specifier, target, resolved ?? null]);
          if (resolved !== undefined) await visit(resolved);
        }),
      );
    };
    await visit(url, served);
    return given.offer(resolutions, modules);
  }

  /**
   * Where `specifier`, imported (`require`: required) by the plugin-owned module `parent`, leads: a
   * plugin file's URL, or `undefined` for Node to resolve (a package, a built-in, a `paths` alias
   * that matched no file). Throws `GLEAN_OUTSIDE_ROOT` for a file outside the root, and Node's
   * not-found error when no candidate exists.
   */
  #resolve(specifier: string, parent: string, require: boolean): Promise<string | undefined> {
    const key = resolutionKey(specifier, parent, require);
    const kept = this.#lookups.kept(key);
    if (kept !== undefined) return Promise.resolve(kept);
    let resolved = this.#resolved.get(key);
    if (resolved === undefined) {
      this.#lookups.spend(key);
      resolved = this.#resolveNow(specifier, parent, require);
      this.#resolved.set(key, resolved);
      // Not found now may be found later (a file created since): only successes are kept.
      resolved.catch(() => this.#resolved.delete(key));
    }
    return resolved;
  }

  async #resolveNow(specifier: string, parent: string, require: boolean): Promise<string | undefined> {
    if (!isPluginOwned(parent, this.#options.rootURL))
      throw new ModuleFailure(
        ErrorCode.LOAD_FAILED,
        `${parent} is not a plugin-owned module of ${this.#options.plugin.file}`,
      );
    const from = fileURLToPath(parent);
    // Built-ins, URLs of other schemes and glean's runtime are Node's (the rule the worker asks by), and so is a package.json `imports` name.
    if (!asksHost(specifier) || specifier.startsWith('#')) return undefined;
    let bases: string[];
    let suffix = '';
    const aliased = !isPathSpecifier(specifier);
    if (aliased) {
      const paths = (await this.#lookups.settings(dirname(from)))?.paths;
      bases = paths === undefined ? [] : matchPaths(specifier, paths);
      if (bases.length === 0) return undefined;
    } else if (require) {
      bases = [specifier.startsWith('file:') ? fileURLToPath(specifier) : resolvePath(dirname(from), specifier)];
    } else {
      let url: URL;
      try {
        url = new URL(specifier, parent);
      } catch {
        throw new ModuleFailure('ERR_INVALID_URL', `Invalid URL: ${specifier} imported from ${from}`);
      }
      suffix = url.search + url.hash;
      url.search = '';
      url.hash = '';
      try {
        bases = [fileURLToPath(url)];
      } catch (error) {
        throw new ModuleFailure(
          'ERR_INVALID_FILE_URL_PATH',
          `${specifier} imported from ${from}: ${(error as Error).message}`,
        );
      }
    }
    const loose = require || aliased || isTypeScriptFile(from);
    for (const base of bases) {
      const candidates = candidatesFor(base, loose);
      // A loose lookup ends with the folder's index files; its package.json `main` comes first, as Node's require has it.
      const folderAt = loose ? candidates.length - EXTENSIONLESS.length : candidates.length;
      for (const [at, candidate] of candidates.entries()) {
        if (at === folderAt) {
          const main = await this.#folderMain(base);
          for (const inMain of main === undefined ? [] : mainCandidates(base, main)) {
            const real = await this.#existing(inMain, specifier, from);
            if (real !== undefined) return pathToFileURL(real).href + suffix;
          }
        }
        const real = await this.#existing(candidate, specifier, from);
        if (real !== undefined) return pathToFileURL(real).href + suffix;
      }
    }
    if (aliased) return undefined;
    const code = require ? 'MODULE_NOT_FOUND' : 'ERR_MODULE_NOT_FOUND';
    throw new ModuleFailure(code, `Cannot find module '${bases[0]}' imported from ${from}`);
  }

  /** The `main` of the package.json in the folder `base`, when `base` is a folder inside the root that has one. */
  async #folderMain(base: string): Promise<string | undefined> {
    const { root, plugin } = this.#options;
    const folder = await confine(base, root, { id: plugin.id, version: plugin.version }, await this.#realRoot()).catch(
      () => undefined,
    );
    if (folder === undefined || (await stat(folder).catch(() => undefined))?.isDirectory() !== true) return undefined;
    return this.#lookups.packageMain(folder);
  }

  /**
   * The real path of `candidate` if it is a file inside the root; `undefined` (and noted as absent) if
   * there is none. Until the version's first load ends, each candidate is looked up once (the helpers
   * of a plugin that all import `./util.js` are one lookup, not one each); from then on every lookup is
   * made anew, so a file created or removed since is found as it is. A lookup that failed is not
   * shared: each importer meets its own error, which names it.
   */
  #existing(candidate: string, specifier: string, from: string): Promise<string | undefined> {
    if (this.#sealed) return this.#lookUp(candidate, specifier, from);
    const shared = this.#candidates.get(candidate);
    if (shared !== undefined) return shared.catch(() => this.#lookUp(candidate, specifier, from));
    const found = this.#lookUp(candidate, specifier, from);
    this.#candidates.set(candidate, found);
    found.catch(() => this.#candidates.delete(candidate));
    return found;
  }

  async #lookUp(candidate: string, specifier: string, from: string): Promise<string | undefined> {
    const { root, plugin } = this.#options;
    let real: string;
    try {
      real = await confine(candidate, root, { id: plugin.id, version: plugin.version }, await this.#realRoot());
    } catch (error) {
      if (isGleanError(error, ErrorCode.OUTSIDE_ROOT))
        throw new GleanError(
          ErrorCode.OUTSIDE_ROOT,
          `${describePlugin(plugin)}: ${from} imports "${specifier}", which leads to ${candidate}: outside the plugin root ${root} once symlinks are followed; a plugin's modules load only from inside it`,
          { cause: error, id: plugin.id, file: from, version: plugin.version },
        );
      const errno = (error as { cause?: { code?: unknown } }).cause?.code;
      if (errno !== 'ENOENT' && errno !== 'ENOTDIR') throw error;
      this.#lookups.absent(candidate);
      return undefined;
    }
    const stats = await stat(real).catch(() => undefined);
    if (stats?.isFile() !== true) {
      if (stats === undefined) this.#lookups.absent(candidate);
      return undefined;
    }
    if (real !== candidate) this.#lookups.link(candidate, real);
    return real;
  }

  /**
   * Node resolved `specifier` from `parent` to the plugin-owned `url` through a package.json (its
   * `imports`, or the package's own name): the version keeps the first such answer, and the
   * package.json read for it, so every worker and every restart resolves it alike.
   */
  async #keep(specifier: string, parent: string, require: boolean, url: string): Promise<string> {
    if (!isPluginOwned(parent, this.#options.rootURL) || !isPluginOwned(url, this.#options.rootURL))
      throw new ModuleFailure(
        ErrorCode.LOAD_FAILED,
        `${url} from ${parent} is not a plugin-owned module of ${this.#options.plugin.file}`,
      );
    return this.#lookups.keep(resolutionKey(specifier, parent, require), url, dirname(fileURLToPath(parent)));
  }

  #error(message: string, cause?: unknown): GleanError {
    return pluginError(ErrorCode.LOAD_FAILED, this.#options.plugin, message, cause === undefined ? {} : { cause });
  }
}

/** How a resolution is known: the same specifier from the same module, imported or required. */
function resolutionKey(specifier: string, parent: string, require: boolean): string {
  return `${require ? 'require' : 'import'}\0${parent}\0${specifier}`;
}
