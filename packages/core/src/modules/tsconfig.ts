/**
 * A plugin's TypeScript settings: the tsconfig.json nearest to a module, with its `extends` chain,
 * reduced to what decides how glean compiles and resolves (`compilerOptions` merged base first,
 * `paths` with the folder they are relative to). Every file of the chain is read through the
 * caller's `read`, which confines, limits and records it: a tsconfig is part of a version's identity.
 */
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
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
  const files: string[] = [];
  const chain = await loadChain(file, read, files, 0);
  return { files, ...chain };
}

interface Chain {
  compilerOptions: Record<string, unknown>;
  paths: TypeScriptSettings['paths'];
  baseUrl: string | undefined;
}

async function loadChain(file: string, read: ReadConfig, files: string[], depth: number): Promise<Chain> {
  if (depth > MAX_EXTENDS || files.includes(file))
    throw new Error(`${file}: "extends" goes more than ${MAX_EXTENDS} deep or in a circle`);
  files.push(file);
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
    const next = await loadChain(await findBase(base, file, read), read, files, depth + 1);
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
  const require = createRequire(from);
  for (const candidate of [base, `${base}.json`, `${base}/tsconfig.json`]) {
    try {
      return require.resolve(candidate);
    } catch {
      // the next form
    }
  }
  throw new Error(`${from}: "extends" names ${base}, which cannot be found`);
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
