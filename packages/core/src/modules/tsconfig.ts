/**
 * A plugin's TypeScript settings: the tsconfig.json nearest to a module, with its `extends` chain,
 * reduced to what decides how glean compiles and resolves (`compilerOptions` merged base first,
 * `paths` with the folder they are relative to). Every file of the chain is read through the
 * caller's `read`, which confines, limits and records it: a tsconfig is part of a version's identity.
 */
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { parseJsonc } from './jsonc.js';

/** What glean takes from a tsconfig chain. */
export interface TypeScriptSettings {
  /** The tsconfig.json files read, nearest first. */
  readonly files: readonly string[];
  /** `compilerOptions`, merged: a derived config's keys win over its base's. */
  readonly compilerOptions: Readonly<Record<string, unknown>>;
  /** `paths`, when set, with the folder its substitutions are relative to. */
  readonly paths: { readonly base: string; readonly patterns: Readonly<Record<string, readonly string[]>> } | undefined;
}

/** Reads a file for the chain: its text, or `undefined` when it does not exist. Throws for any other failure. */
export type ReadConfig = (file: string) => Promise<string | undefined>;

/** The deepest `extends` chain followed; a deeper one (or a cycle) is an error. */
const MAX_EXTENDS = 16;

/** Loads `file` (a tsconfig.json that exists) and the chain it extends. Rejects with an Error naming the file for JSON, extends or read failures. */
export async function loadTypeScriptSettings(file: string, read: ReadConfig): Promise<TypeScriptSettings> {
  const files = new Map<string, Promise<Chain>>();
  const chain = await loadChain(file, read, files, []);
  return { files: [...files.keys()], ...chain };
}

interface Chain {
  compilerOptions: Record<string, unknown>;
  paths: TypeScriptSettings['paths'];
  baseUrl: string | undefined;
}

/**
 * `file`'s chain, each file loaded once (`files`, in the order first met): two bases that extend one
 * more (a diamond) share it, and a wide tree of them costs its files, not its paths. `above` is the
 * files extending this one, for a circle.
 */
function loadChain(
  file: string,
  read: ReadConfig,
  files: Map<string, Promise<Chain>>,
  above: readonly string[],
): Promise<Chain> {
  if (above.length > MAX_EXTENDS || above.includes(file))
    return Promise.reject(new Error(`${file}: "extends" goes more than ${MAX_EXTENDS} deep or in a circle`));
  let chain = files.get(file);
  if (chain === undefined) {
    chain = loadOne(file, read, files, [...above, file]);
    files.set(file, chain);
  }
  return chain;
}

async function loadOne(
  file: string,
  read: ReadConfig,
  files: Map<string, Promise<Chain>>,
  above: readonly string[],
): Promise<Chain> {
  const text = await read(file);
  if (text === undefined) throw new Error(`${file}: not found`);
  let config: unknown;
  try {
    config = parseJsonc(text);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new Error(`${file}: a tsconfig must be a JSON object`);
  const { extends: bases, compilerOptions } = config as { extends?: unknown; compilerOptions?: unknown };
  let merged: Chain = { compilerOptions: {}, paths: undefined, baseUrl: undefined };
  for (const base of typeof bases === 'string' ? [bases] : Array.isArray(bases) ? bases : []) {
    if (typeof base !== 'string') throw new Error(`${file}: "extends" must name files`);
    const next = await loadChain(await findBase(base, file, read), read, files, above);
    merged = {
      compilerOptions: { ...merged.compilerOptions, ...next.compilerOptions },
      paths: next.paths ?? merged.paths,
      baseUrl: next.baseUrl ?? merged.baseUrl,
    };
  }
  const own =
    compilerOptions !== null && typeof compilerOptions === 'object' ? (compilerOptions as Record<string, unknown>) : {};
  const here = dirname(file);
  const baseUrl = typeof own['baseUrl'] === 'string' ? resolve(here, own['baseUrl']) : merged.baseUrl;
  const ownPaths = own['paths'];
  const paths =
    ownPaths !== null && typeof ownPaths === 'object' && !Array.isArray(ownPaths)
      ? { base: baseUrl ?? here, patterns: cleanPaths(ownPaths as Record<string, unknown>) }
      : merged.paths;
  return { compilerOptions: { ...merged.compilerOptions, ...own }, paths, baseUrl };
}

/** Where an `extends` entry leads: a path relative to the config (`.json` added when missing), or a package's file. */
async function findBase(base: string, from: string, read: ReadConfig): Promise<string> {
  if (base.startsWith('.') || isAbsolute(base)) {
    const file = resolve(dirname(from), base);
    if (extname(file) === '.json' || (await read(file).catch(() => undefined)) !== undefined) return file;
    return `${file}.json`;
  }
  const found = await findPackageBase(base, from, read);
  if (found !== undefined) return found;
  throw new Error(`${from}: "extends" names ${base}, which cannot be found`);
}

/** The conditions an `extends` package's "exports" are matched with, as TypeScript matches them for a tsconfig. */
const EXTENDS_CONDITIONS = new Set(['types', 'require', 'node', 'default']);

/**
 * A package's tsconfig for `extends` (`@tsconfig/node20`, `pkg/tsconfig.base.json`): the
 * `node_modules` folders from `from`'s folder up are searched for the package; in it, its
 * package.json "exports" entry for the subpath, else (for the package itself) its "tsconfig" field
 * or tsconfig.json, else (for a subpath) the file named, with `.json` or as a folder's tsconfig.json.
 * Every package.json and candidate is read through `read`, never through Node's `require.resolve`,
 * whose synchronous reads on the host's thread hang for ever on a FIFO named package.json and read
 * `/dev/zero` until memory runs out.
 */
async function findPackageBase(base: string, from: string, read: ReadConfig): Promise<string | undefined> {
  const parts = base.split('/');
  const nameLength = base.startsWith('@') ? 2 : 1;
  if (
    parts.length < nameLength ||
    parts.slice(0, nameLength).some((part) => part === '' || part === '.' || part === '..')
  )
    return undefined;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.slice(nameLength).join('/');
  // A candidate that cannot be read (a folder, a FIFO) is not the tsconfig: the next one is tried.
  const exists = async (file: string): Promise<boolean> => (await read(file).catch(() => undefined)) !== undefined;
  for (let folder = dirname(from); ; folder = dirname(folder)) {
    if (basename(folder) !== 'node_modules') {
      const packageFolder = join(folder, 'node_modules', name);
      const manifest = await read(join(packageFolder, 'package.json'));
      let data: { exports?: unknown; tsconfig?: unknown } | undefined;
      if (manifest !== undefined) {
        try {
          const parsed: unknown = JSON.parse(manifest);
          if (parsed !== null && typeof parsed === 'object') data = parsed as typeof data;
        } catch {
          // Not JSON: looked at as a package without a manifest.
        }
      }
      const key = subpath === '' ? '.' : `./${subpath}`;
      if (data?.exports !== undefined && data.exports !== null) {
        const target = exportsTarget(data.exports, key);
        // A package with "exports" offers those files and no others.
        if (target === undefined) return undefined;
        const file = resolve(packageFolder, target);
        return isInside(file, packageFolder) && (await exists(file)) ? file : undefined;
      }
      const candidates =
        subpath === ''
          ? [
              ...(typeof data?.tsconfig === 'string' ? [resolve(packageFolder, data.tsconfig)] : []),
              join(packageFolder, 'tsconfig.json'),
            ]
          : [
              join(packageFolder, subpath),
              join(packageFolder, `${subpath}.json`),
              join(packageFolder, subpath, 'tsconfig.json'),
            ];
      for (const file of candidates) if (isInside(file, packageFolder) && (await exists(file))) return file;
    }
    if (dirname(folder) === folder) return undefined;
  }
}

/** The target "exports" gives `key` (`.`, `./tsconfig.json`): exact keys, `*` patterns, conditions in their order. */
function exportsTarget(exports: unknown, key: string): string | undefined {
  const isSubpathMap =
    exports !== null &&
    typeof exports === 'object' &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((k) => k.startsWith('.'));
  if (!isSubpathMap) return key === '.' ? conditionTarget(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (Object.hasOwn(map, key)) return conditionTarget(map[key]);
  let best: { prefix: string; star: string; value: unknown } | undefined;
  for (const [pattern, value] of Object.entries(map)) {
    const star = pattern.indexOf('*');
    if (star === -1) continue;
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (key.length >= pattern.length - 1 && key.startsWith(prefix) && key.endsWith(suffix))
      if (best === undefined || prefix.length > best.prefix.length)
        best = { prefix, star: key.slice(prefix.length, key.length - suffix.length), value };
  }
  if (best === undefined) return undefined;
  const target = conditionTarget(best.value);
  return target?.replaceAll('*', best.star);
}

function conditionTarget(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return value.startsWith('./') ? value : undefined;
  if (depth > 16 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const entry of value) {
      const target = conditionTarget(entry, depth + 1);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  for (const [condition, entry] of Object.entries(value)) {
    if (!EXTENDS_CONDITIONS.has(condition)) continue;
    const target = conditionTarget(entry, depth + 1);
    if (target !== undefined) return target;
  }
  return undefined;
}

function isInside(file: string, folder: string): boolean {
  return file === folder || file.startsWith(`${folder}${sep}`);
}

function cleanPaths(paths: Record<string, unknown>): Record<string, readonly string[]> {
  const clean: Record<string, readonly string[]> = {};
  for (const [pattern, targets] of Object.entries(paths)) {
    if (Array.isArray(targets) && targets.every((target) => typeof target === 'string'))
      Object.defineProperty(clean, pattern, { value: targets, enumerable: true });
  }
  return clean;
}

/**
 * The files a bare `specifier` may mean under tsconfig `paths` (absolute, before extensions are
 * tried), as TypeScript matches them: an exact pattern first, else the `*` pattern with the longest
 * prefix. `[]` when no pattern matches. Pure.
 */
export function matchPaths(specifier: string, paths: NonNullable<TypeScriptSettings['paths']>): string[] {
  let best: { pattern: string; star: string } | undefined;
  for (const pattern of Object.keys(paths.patterns)) {
    const star = pattern.indexOf('*');
    if (star === -1) {
      if (pattern === specifier) {
        best = { pattern, star: '' };
        break;
      }
      continue;
    }
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (
      specifier.length >= prefix.length + suffix.length &&
      specifier.startsWith(prefix) &&
      specifier.endsWith(suffix) &&
      (best === undefined || prefix.length > best.pattern.indexOf('*'))
    )
      best = { pattern, star: specifier.slice(prefix.length, specifier.length - suffix.length) };
  }
  if (best === undefined) return [];
  return (paths.patterns[best.pattern] ?? []).map((target) => resolve(paths.base, target.replace('*', best.star)));
}
