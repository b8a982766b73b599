import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  describeThrown,
  isTypeScriptFile,
  serializeError,
  type ExportDescription,
  type DescribeResult,
} from './protocol.js';

let typescriptReady: Promise<void> | undefined;

/**
 * Registers tsx's ESM and CommonJS hooks in this thread, once. Only TypeScript plugins pay for it
 * (170 to 270 ms on the first load in a worker, measured in bench/); `.js`, `.mjs` and `.cjs` plugins import natively.
 * tsx also turns on source maps, so a plugin's stack points at its `.ts` file and line.
 */
export function registerTypeScript(): Promise<void> {
  typescriptReady ??= (async () => {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    esm.register();
    cjs.register();
  })();
  return typescriptReady;
}

/** A tiny TypeScript module, shipped with this package. */
const WARM_UP = new URL('../assets/warm-up.ts', import.meta.url).href;

/**
 * Registers tsx and imports a tiny TypeScript module through it: the first import through tsx costs
 * several milliseconds more than the next (bench/phases.mjs). For a spare thread, which has the time
 * before its plugin comes; a worker that loads its plugin at once registers tsx only.
 */
export async function prepareTypeScript(): Promise<void> {
  await registerTypeScript();
  await import(WARM_UP);
}

let pinned: ((file: string, source: Uint8Array) => Promise<void>) | undefined;

/**
 * Registers glean's source hooks in this thread, once, and returns how to hand them a file's bytes.
 * Must come before {@link registerTypeScript}: hooks registered later run first, and tsx must
 * transform the pinned bytes, not the file on disk.
 */
export function pinSources(): (file: string, source: Uint8Array) => Promise<void> {
  if (pinned !== undefined) return pinned;
  if (typescriptReady !== undefined)
    throw new Error('glean: source hooks must be registered before the TypeScript hooks');
  const { port1, port2 } = new MessageChannel();
  register(new URL('./source-hooks.js', import.meta.url), { data: { port: port2 }, transferList: [port2] });
  port1.unref();
  pinned = (file, source) =>
    new Promise((resolve) => {
      const url = pathToFileURL(file).href;
      const onAck = (ack: string): void => {
        if (ack !== url) return;
        port1.off('message', onAck);
        resolve();
      };
      port1.on('message', onAck);
      port1.postMessage({ url, source });
    });
  return pinned;
}

/**
 * Why a CommonJS TypeScript file (`.cts`, or `.ts` without `"type": "module"`) cannot be pinned: tsx
 * compiles such a file from what it reads on disk, not from the source the hooks hand it. On Node
 * 22.22.3+ and 24.11.1+, where tsx loads through `module.registerHooks`, the file on disk would run
 * instead of the checked bytes; on older Node, tsx compiles the checked bytes as an ES module, which a
 * CommonJS file is not.
 */
export const PINNED_COMMONJS_TYPESCRIPT =
  'integrity cannot pin a CommonJS TypeScript file (tsx compiles it from the file on disk, not from the checked bytes): make it an ES module (.mts, or "type": "module" in its package.json)';

/** The namespace object of an imported plugin module. */
export type PluginModule = Readonly<Record<string, unknown>>;

/**
 * Imports a plugin file: `.mjs`, `.js` (ESM or CommonJS by the nearest package.json), `.cjs`, `.ts`,
 * `.mts`, `.cts`. With `source`, the file's own bytes are these, whatever is on disk now; its imports
 * still come from disk.
 */
export async function importPlugin(file: string, source?: Uint8Array): Promise<PluginModule> {
  if (source !== undefined && isTypeScriptFile(file) && isCommonJS(file)) throw new Error(PINNED_COMMONJS_TYPESCRIPT);
  if (source !== undefined) await pinSources()(file, source);
  if (isTypeScriptFile(file)) await registerTypeScript();
  return (await import(pathToFileURL(file).href)) as PluginModule;
}

/**
 * Finds export `name`. A CommonJS module's exports sit on `default` (named ones only when Node's
 * lexer could find them), so for CommonJS a name missing from the namespace is looked up there too;
 * an ES module's default export is only ever `default`.
 */
export function findExport(
  module: PluginModule,
  name: string,
  commonJS: boolean,
): { found: true; value: unknown } | { found: false } {
  if (Object.hasOwn(module, name)) return { found: true, value: module[name] };
  const fallback = module['default'];
  if (
    commonJS &&
    fallback !== null &&
    (typeof fallback === 'object' || typeof fallback === 'function') &&
    Object.hasOwn(fallback, name)
  ) {
    return { found: true, value: (fallback as Record<string, unknown>)[name] };
  }
  return { found: false };
}

/** Whether Node loads `file` as CommonJS: by extension, else by the nearest package.json's `type`. */
export function isCommonJS(file: string): boolean {
  const extension = extname(file);
  if (extension === '.cjs' || extension === '.cts') return true;
  if (extension === '.mjs' || extension === '.mts') return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: unknown }).type !== 'module';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return true;
    }
    if (dirname(dir) === dir) return true;
  }
}

/** Names a user could have meant: the module's own exports, plus a CommonJS `default` object's keys. */
export function listExports(module: PluginModule, commonJS: boolean): string[] {
  const names = new Set(Object.keys(module));
  const fallback = module['default'];
  if (commonJS && fallback !== null && typeof fallback === 'object')
    for (const key of Object.keys(fallback)) names.add(key);
  return [...names].sort();
}

/** Built-in containers are data even though their prototypes have methods. */
function isBuiltinData(value: object): boolean {
  return (
    Array.isArray(value) ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Error
  );
}

/** Every callable member of an object, own or inherited (class methods), except Object.prototype's; none for built-in data. */
export function listMethods(target: object): string[] {
  const methods = new Set<string>();
  if (isBuiltinData(target)) return [];
  for (
    let proto: object | null = target;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || methods.has(key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (descriptor !== undefined && typeof descriptor.value === 'function') methods.add(key);
    }
  }
  return [...methods].sort();
}

/**
 * Says what an export is. A function is a function; an object with at least one method is an
 * object; anything else is a value, snapshotted here by structured clone, as glean copies a
 * variable at reload.
 */
export function describeExport(module: PluginModule, name: string, commonJS: boolean): DescribeResult {
  try {
    return describeFound(module, name, commonJS);
  } catch (error) {
    // A Proxy or a getter of the plugin's that throws while glean looks at it.
    const message = `export "${name}" cannot be described: looking at it threw ${describeThrown(error)}`;
    return { ok: false, failure: { reason: 'load-failed', message, error: serializeError(error) } };
  }
}

function describeFound(module: PluginModule, name: string, commonJS: boolean): DescribeResult {
  const found = findExport(module, name, commonJS);
  if (!found.found) {
    const available = listExports(module, commonJS);
    return {
      ok: false,
      failure: {
        reason: 'not-found',
        message: `export "${name}" not found; exports are: ${available.length > 0 ? available.join(', ') : '(none)'}`,
      },
    };
  }
  const { value } = found;
  let description: ExportDescription;
  if (typeof value === 'function') {
    description = { kind: 'function', name };
  } else if (value !== null && typeof value === 'object' && listMethods(value).length > 0) {
    description = { kind: 'object', name, methods: listMethods(value) };
  } else {
    // Arrays, maps, dates and plain records are values: one snapshot per version.
    try {
      description = { kind: 'value', name, value: structuredClone(value) };
    } catch (error) {
      return {
        ok: false,
        failure: {
          reason: 'not-cloneable',
          message: `export "${name}" is a value that cannot be copied to the host: ${(error as Error).message}`,
        },
      };
    }
  }
  return { ok: true, description };
}
