import nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { CHILD_PROCESS_MODULES, childProcessesAsked } from './children.js';
import { serveCommonJS } from './commonjs-hooks.js';
import { ModuleChannel } from './module-channel.js';
import { createModuleHooks, type ModuleHooksData } from './module-hooks.js';
import {
  describeThrown,
  serializeError,
  type DescribeResult,
  type ExportDescription,
  type ServeTask,
} from './protocol.js';
import { describeRefusal, encodeValue } from './values.js';

/** `module.registerHooks` (Node 22.15+, 24): synchronous hooks in this thread, for `import` and `require` alike. */
type RegisterHooks = (hooks: {
  resolve: ReturnType<typeof createModuleHooks>['resolve'];
  load: ReturnType<typeof createModuleHooks>['load'];
}) => unknown;

/**
 * Registers glean's module hooks in this thread, before any plugin code runs: from now on every
 * plugin-owned module comes from the host (see module-hooks.ts). Where Node has
 * `module.registerHooks`, the hooks run in this thread and see `require` too; elsewhere they run on
 * a hooks thread of their own through `module.register`, and Node's CommonJS loader is patched to
 * ask the host for plugin-owned CommonJS (commonjs-hooks.ts). Turns on source maps, so a stack
 * points at a TypeScript module's own lines. Returns whether the hooks run in this thread: then
 * they tell children.ts when a module that starts processes is asked for, before it loads.
 */
export function installModuleHooks(task: Pick<ServeTask, 'root' | 'modules'>): boolean {
  process.setSourceMapsEnabled(true);
  const [hooksEnd, commonJSEnd] = task.modules;
  const registerHooks = (nodeModule as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  if (typeof registerHooks === 'function') {
    const hooks = createModuleHooks({ ...hooksEnd, root: task.root });
    // Decided on where a specifier leads, not on how it is written: a package.json "imports"
    // mapping ("#cp": "child_process") reaches the module too. Resolution comes before the load, so
    // the tracking is still in place before the module reaches the plugin.
    const resolve: typeof hooks.resolve = (specifier, context, next) => {
      const result = hooks.resolve(specifier, context, next);
      if (result instanceof Promise) return result.then(noteChildProcesses);
      return noteChildProcesses(result);
    };
    registerHooks({ resolve, load: hooks.load });
    (commonJSEnd.port as unknown as { close(): void }).close();
    return true;
  }
  const data: ModuleHooksData = { ...hooksEnd, root: task.root, commonJSThroughLoader: true };
  // dist/hooks.js: module-hooks.ts bundled into one file (scripts/bundle-worker.mjs).
  nodeModule.register(new URL('./hooks.js', import.meta.url), {
    data,
    transferList: [hooksEnd.port as never],
  });
  serveCommonJS(new ModuleChannel(commonJSEnd), task.root);
  return false;
}

/** Tells children.ts when a resolution leads to a module of {@link CHILD_PROCESS_MODULES}, as Node names it, prefixed or not. */
function noteChildProcesses<T extends { readonly url: string }>(result: T): T {
  if (CHILD_PROCESS_MODULES.has(result.url)) childProcessesAsked();
  return result;
}

/** The namespace object of an imported plugin module. */
export type PluginModule = Readonly<Record<string, unknown>>;

/**
 * Imports a plugin file (its real path): `.mjs`, `.js`, `.cjs`, `.ts`, `.mts`, `.cts`, `.tsx`. Its
 * bytes, and those of every plugin-owned module it imports, come from the host.
 */
export async function importPlugin(file: string): Promise<PluginModule> {
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
    if (isClass(value)) return classRefused(`export "${name}" is ${describeClass(value)}`, value);
    description = { kind: 'function', name };
  } else if (value !== null && typeof value === 'object' && listMethods(value).length > 0) {
    const methods = listMethods(value);
    for (const method of methods) {
      const member = (value as Record<string, unknown>)[method];
      if (typeof member === 'function' && isClass(member))
        return classRefused(`method "${method}" of export "${name}" is ${describeClass(member)}`, member);
    }
    // CommonJS `module.exports = { …, dispose }`: its `dispose` is the plugin's cleanup hook, which no handle calls.
    const hook = commonJS && value === module['default'] && methods.includes('dispose');
    description = hook
      ? { kind: 'object', name, methods: methods.filter((method) => method !== 'dispose'), lifecycle: ['dispose'] }
      : { kind: 'object', name, methods };
  } else {
    // Arrays, maps, dates and plain records are values: one snapshot per version, under the table of values a result follows.
    const encoding = encodeValue(value, 'value');
    if (encoding !== undefined && 'refused' in encoding) {
      const message = `export "${name}" is a value that cannot be copied to the host: ${describeRefusal(encoding.refused, 'cannot cross')}`;
      return { ok: false, failure: { reason: 'not-cloneable', message } };
    }
    try {
      description =
        encoding === undefined
          ? { kind: 'value', name, value: structuredClone(value) }
          : { kind: 'value', name, ...structuredClone({ value: encoding.value, specials: encoding.specials }) };
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

/**
 * Whether `fn` is a class: a handle calls its export, and a class throws a TypeError when called
 * without `new`. Only `class` syntax is told apart; a constructor written as a function is a function.
 */
export function isClass(fn: object): boolean {
  try {
    return /^class\b/.test(Function.prototype.toString.call(fn));
  } catch {
    return false;
  }
}

function nameOf(fn: object): string {
  const name = (fn as { name?: unknown }).name;
  return typeof name === 'string' ? name : '';
}

function describeClass(fn: object): string {
  return nameOf(fn) === '' ? 'a class' : `a class (${nameOf(fn)})`;
}

/** The refusal of a class at load: what a handle would do with it is undefined, so say what to export instead. */
function classRefused(what: string, fn: object): DescribeResult {
  const noun = /^[A-Za-z_$][\w$]*$/.test(nameOf(fn)) ? nameOf(fn) : 'TheClass';
  return {
    ok: false,
    failure: {
      reason: 'class-export',
      message: `${what}, which a handle cannot call: export an instance (\`new ${noun}(…)\`), whose methods a handle calls, or a function that makes and uses one`,
    },
  };
}
