/**
 * How Node would load a plugin-owned module, decided on the host: by its extension, else by the
 * `type` of the nearest package.json, else (no `type`) by its syntax, as Node 20.19+ and 22.7+
 * detect it: a file that does not parse as CommonJS because of ES module syntax is an ES module.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { Script } from 'node:vm';
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

/** Errors V8 gives CommonJS that is really an ES module: the ones on which Node retries a file as one. */
const ESM_ONLY = [
  'Cannot use import statement outside a module',
  "Unexpected token 'export'",
  "Cannot use 'import.meta' outside a module",
  'await is only valid in async functions and the top level bodies of modules',
];

/** Formats detected so far, by the code's SHA-256: a reload detects only the modules whose bytes changed. */
const detected = new Map<string, 'module' | 'commonjs'>();
const DETECTED_MAX = 10_000;

/**
 * `module` when `code` (JavaScript) fails to compile as CommonJS because of ES module syntax,
 * else `commonjs`. The code is compiled, never run; the answer is kept for the same code.
 */
export function detectFormat(code: string, file: string): 'module' | 'commonjs' {
  const key = createHash('sha256').update(code).digest('hex');
  let format = detected.get(key);
  if (format === undefined) {
    format = detectNow(code, file);
    if (detected.size >= DETECTED_MAX) detected.delete(detected.keys().next().value as string);
    detected.set(key, format);
  }
  return format;
}

function detectNow(code: string, file: string): 'module' | 'commonjs' {
  try {
    new Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, { filename: file });
    return 'commonjs';
  } catch (error) {
    const message = error instanceof SyntaxError ? error.message : '';
    return ESM_ONLY.some((text) => message.includes(text)) ? 'module' : 'commonjs';
  }
}
