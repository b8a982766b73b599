/**
 * Which files a relative import of a plugin-owned module may mean, in the order they are tried:
 * Node's own rules for the file named, plus what TypeScript authors write (`./x.js` for `x.ts`,
 * extensionless imports), as TypeScript's `bundler` and `node16` resolution and tsx allow. Pure.
 */
import { extname, join, resolve } from 'node:path';

/** The extensions tried for an import without one, in order. */
export const EXTENSIONLESS = ['.js', '.json', '.ts', '.tsx', '.mjs', '.mts', '.cjs', '.cts'] as const;

/** The TypeScript files an import of a JavaScript name may mean: `./x.js` is `./x.ts` when only that exists. */
const TYPESCRIPT_FOR = {
  '.js': ['.ts', '.tsx'],
  '.jsx': ['.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
} as const satisfies Record<string, readonly string[]>;

/** Extensions Node or glean load a module by. */
const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.json', '.ts', '.mts', '.cts', '.tsx', '.jsx', '.node']);

/**
 * The files `base` (an absolute path, an import resolved against its importer) may mean, in order:
 * itself; for a JavaScript name, its TypeScript twins; then, when `loose` (a `require`, or an import
 * from a TypeScript module), `base` with each extension of {@link EXTENSIONLESS} and the same as
 * `base/index`. An ES import from JavaScript gets Node's rule: the file named, or its TypeScript twin.
 */
export function candidatesFor(base: string, loose: boolean): string[] {
  const found: string[] = [base];
  const extension = extname(base);
  const twins = (TYPESCRIPT_FOR as Record<string, readonly string[]>)[extension];
  if (twins !== undefined) for (const twin of twins) found.push(base.slice(0, -extension.length) + twin);
  if (loose && !MODULE_EXTENSIONS.has(extension)) {
    for (const next of EXTENSIONLESS) found.push(base + next);
  }
  if (loose) {
    const folder = base.endsWith('/') ? base : `${base}/`;
    for (const next of EXTENSIONLESS) found.push(`${folder}index${next}`);
  }
  return found;
}

/**
 * The files a folder's package.json `main` may mean, in Node's CommonJS order (LOAD_AS_FILE, then
 * LOAD_INDEX of `main`): tried for a `require` (or a loose import) of a folder before its own index files.
 */
export function mainCandidates(folder: string, main: string): string[] {
  const target = resolve(folder, main);
  const found = [target];
  if (!MODULE_EXTENSIONS.has(extname(target))) for (const next of EXTENSIONLESS) found.push(target + next);
  for (const next of EXTENSIONLESS) found.push(join(target, `index${next}`));
  return found;
}

/** Whether `specifier` names a file relative to its importer or absolutely: `./x`, `../x`, `/x`, `file:` URLs. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier === '.' ||
    specifier === '..' ||
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('/') ||
    specifier.startsWith('file:')
  );
}
