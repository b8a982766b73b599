/**
 * TypeScript to JavaScript, on the host, once per module per version (and not again for bytes and
 * settings already compiled: a cache shared by every version in the process). esbuild's `transform`
 * does the work in its one service process per host; see docs/architecture.md for the choice.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { ModuleFormat } from '@glean/worker/protocol';

/** How one module is compiled. */
export interface CompileRequest {
  /** The module's real path: named in its source map and in errors. */
  readonly file: string;
  readonly source: string;
  /** `module` or `commonjs` to write that module format; `undefined` keeps the module syntax as written. */
  readonly format: Exclude<ModuleFormat, 'json'> | undefined;
  /** The merged `compilerOptions` of the module's tsconfig chain (`{}` without one). */
  readonly compilerOptions: Readonly<Record<string, unknown>>;
}

/** The compiled output most recently used, up to this many bytes of JavaScript. */
const CACHE_BYTES = 64 * 1024 * 1024;
const cache = new Map<string, string>();
let cached = 0;
/** esbuild's service process may run: a compile asked for it. */
let started = false;

/** The compilerOptions esbuild reads from a tsconfig; the others do not change its output. */
const COMPILER_OPTIONS = [
  'alwaysStrict',
  'experimentalDecorators',
  'importsNotUsedAsValues',
  'jsx',
  'jsxFactory',
  'jsxFragmentFactory',
  'jsxImportSource',
  'preserveValueImports',
  'target',
  'useDefineForClassFields',
  'verbatimModuleSyntax',
] as const;

/**
 * The JavaScript for a TypeScript module, with an inline source map. Rejects with esbuild's message
 * (its errors' locations) for code that does not compile. A compile of the same bytes with the same
 * settings that is under way already (one a generation started while it checked a running version,
 * see `ModuleGraph.changes`) is waited for rather than started twice.
 */
export async function compileTypeScript(request: CompileRequest): Promise<string> {
  const compilerOptions: Record<string, unknown> = {};
  for (const key of COMPILER_OPTIONS)
    if (request.compilerOptions[key] !== undefined) compilerOptions[key] = request.compilerOptions[key];
  const key = createHash('sha256')
    .update(JSON.stringify([request.file, request.format ?? null, compilerOptions]))
    .update(request.source)
    .digest('hex');
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  let compile = compiling.get(key);
  if (compile === undefined) {
    compile = transformed(request, compilerOptions);
    compiling.set(key, compile);
    compile.then(
      (code) => {
        compiling.delete(key);
        remember(key, code);
      },
      () => compiling.delete(key),
    );
  }
  return compile;
}

/** Compiles under way, by cache key: at most one per bytes and settings. */
const compiling = new Map<string, Promise<string>>();

async function transformed(request: CompileRequest, compilerOptions: Record<string, unknown>): Promise<string> {
  const { transform, stop } = await import('esbuild');
  started = true;
  const options = {
    loader: extname(request.file) === '.tsx' ? ('tsx' as const) : ('ts' as const),
    ...(request.format === undefined
      ? {}
      : { format: request.format === 'module' ? ('esm' as const) : ('cjs' as const) }),
    // The Node that runs the workers: what it lacks (standard decorators) is lowered, nothing more.
    target: `node${process.versions.node}`,
    // 'node': CommonJS output then carries the annotation Node's export detection reads (named imports of a .cts).
    platform: 'node' as const,
    sourcemap: 'inline' as const,
    // Mappings only: stacks need no more (Node maps them from the mappings), and the TypeScript source
    // inside every map doubled what the host keeps per module (docs/benchmarks.md, section 7).
    sourcesContent: false,
    sourcefile: request.file,
    tsconfigRaw: { compilerOptions },
    logLevel: 'silent' as const,
  };
  const service = serviceGeneration;
  try {
    return (await transform(request.source, options)).code;
  } catch (error) {
    if (!serviceEnded(error) || users === 0) throw error;
    // esbuild's service process died under this compile or another one (deeply nested code overflows
    // its parser's stack, which ends the process), and esbuild starts no other by itself: every later
    // compile of every glean in the process would fail. The first to see it starts a fresh one, and
    // each compile it took down is tried once more there; one that kills that one too fails alone.
    if (service === serviceGeneration) {
      serviceGeneration++;
      await stop();
    }
    return (await transform(request.source, options)).code;
  }
}

function remember(key: string, code: string): void {
  cache.set(key, code);
  cached += code.length;
  for (const [oldest, value] of cache) {
    if (cached <= CACHE_BYTES) break;
    cache.delete(oldest);
    cached -= value.length;
  }
}

let users = 0;
/** Counts esbuild service processes ended by glean (a restart after a crash, or the last user gone). */
let serviceGeneration = 0;

/** Whether `error` is esbuild saying its service process is gone. */
function serviceEnded(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return message.startsWith('The service is no longer running') || message.startsWith('The service was stopped');
}

/**
 * Counts one more user of the compiler (a glean, a standalone handle's version); the returned
 * function counts it out, and ends esbuild's service process once no user is left (the next
 * compile starts it again), so a host that closed every glean has no process of glean's once esbuild's has exited, moments after. Idempotent.
 */
export function useCompiler(): () => Promise<void> {
  users++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--users > 0 || !started) return;
    started = false;
    serviceGeneration++;
    const { stop } = await import('esbuild');
    await stop();
  };
}

/**
 * Where JavaScript `source` stops parsing, as `line:column: what esbuild says`, or `undefined` when it
 * parses: names the module of a load that failed with a `SyntaxError`, which V8's error does not.
 */
export async function syntaxErrorIn(source: string, format: 'module' | 'commonjs'): Promise<string | undefined> {
  const { transform } = await import('esbuild');
  started = true;
  try {
    await transform(source, { loader: 'js', format: format === 'module' ? 'esm' : 'cjs', logLevel: 'silent' });
    return undefined;
  } catch (error) {
    const first = (error as { errors?: { text: string; location: { line: number; column: number } | null }[] })
      .errors?.[0];
    if (first === undefined) return undefined;
    return first.location === null ? first.text : `${first.location.line}:${first.location.column + 1}: ${first.text}`;
  }
}

/** Whether esbuild finds ES module syntax in JavaScript `code` (its metafile's input `format`); `false` for code it cannot parse. */
export async function moduleSyntaxOf(code: string, file: string): Promise<boolean> {
  const { build } = await import('esbuild');
  started = true;
  try {
    const { metafile } = await build({
      stdin: { contents: code, loader: 'js', sourcefile: file },
      write: false,
      metafile: true,
      bundle: false,
      platform: 'node',
      logLevel: 'silent',
    });
    return Object.values(metafile.inputs)[0]?.format === 'esm';
  } catch {
    return false;
  }
}
