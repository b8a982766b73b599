/**
 * How Node would load a plugin-owned module, decided on the host: by its extension, else by the
 * `type` of the nearest package.json, else (no `type`) by its syntax, as Node 20.19+ and 22.7+
 * detect it: a file that does not parse as CommonJS because of ES module syntax is an ES module.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { moduleSyntaxOf } from './compile.js';
import type { ModuleFormat } from '@glean/worker/protocol';

/** The `type` field of a package.json: `module`, `commonjs`, or `undefined` when absent (or no package.json). */
export type PackageType = 'module' | 'commonjs' | undefined;

/** Extensions of modules an `import` takes; `require` takes any other as CommonJS, as Node does. */
const IMPORTABLE = new Set(['', '.js', '.mjs', '.cjs', '.json', '.ts', '.mts', '.cts', '.tsx']);

/** Whether an `import` (not a `require`) of `file` is refused for its extension, as Node refuses it (`ERR_UNKNOWN_FILE_EXTENSION`). */
export function unknownExtension(file: string): boolean {
  return !IMPORTABLE.has(extname(file));
}

/**
 * What an extension says: a format, or `detect` when the package type must decide and, if it has
 * none, the syntax. An extension `import` refuses (see {@link unknownExtension}) is CommonJS, as
 * `require` takes it. Pure.
 */
export function formatByName(file: string, type: PackageType): ModuleFormat | 'detect' {
  const extension = extname(file);
  if (unknownExtension(file)) return 'commonjs';
  switch (extension) {
    case '.json':
      return 'json';
    case '.mjs':
    case '.mts':
      return 'module';
    case '.cjs':
    case '.cts':
      return 'commonjs';
    default:
      return type ?? 'detect';
  }
}

/** Formats detected so far, by the code's SHA-256: a reload detects only the modules whose bytes changed. */
const detected = new Map<string, 'module' | 'commonjs'>();
const DETECTED_MAX = 10_000;

/**
 * `module` when `code` (JavaScript) has ES module syntax (`import` or `export` declarations,
 * `import.meta`, top-level `await`), else `commonjs`: the rule Node 20.19+ and 22.7+ apply to a file
 * no extension or package.json `type` decides. esbuild parses it, in its own process, so a large
 * file does not hold the host's event loop; code that does not parse is `commonjs` (Node then
 * reports its syntax error). The answer is kept for the same code.
 */
export async function detectFormat(code: string, file: string): Promise<'module' | 'commonjs'> {
  const key = createHash('sha256').update(code).digest('hex');
  let format = detected.get(key);
  if (format === undefined) {
    format = (await moduleSyntaxOf(code, file)) ? 'module' : 'commonjs';
    if (detected.size >= DETECTED_MAX) detected.delete(detected.keys().next().value as string);
    detected.set(key, format);
  }
  return format;
}
