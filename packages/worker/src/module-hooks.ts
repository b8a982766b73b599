/**
 * glean's module hooks: every plugin-owned module (see `isPluginOwned`) is resolved and loaded by
 * asking the host, which reads, checks and compiles it once per version; everything else (packages,
 * built-ins) loads as Node loads it. The hooks are synchronous, so one implementation serves both
 * ways of registering them: `module.registerHooks` in the worker's own thread (Node 22.15+, 24),
 * and `module.register` on a hooks thread of its own (Node 20, 22 before 22.15), where
 * `initialize` receives the channel.
 */
import { SentAhead } from './module-ahead.js';
import { ModuleChannel, type ModuleQuestion, moduleError } from './module-channel.js';
import {
  asksHost,
  isPluginOwned,
  type ModuleAnswer,
  type ModuleChannelEnd,
  type ModuleFormat,
  RUNTIME_SPECIFIER,
} from './protocol.js';

/** What the hooks are started with. */
export interface ModuleHooksData extends ModuleChannelEnd {
  /** The plugin root's real path as a `file:` URL, no trailing slash. */
  readonly root: string;
  /**
   * Load a plugin-owned CommonJS module through Node's CommonJS loader (which glean patches to ask
   * the host, see commonjs-hooks.ts) rather than from the source the hooks return: on Node before
   * 22.15, a CommonJS module given its source loads its own `require`s in a reduced way that cannot
   * require JSON or ES modules.
   */
  readonly commonJSThroughLoader?: boolean;
}

interface ResolveContext {
  readonly parentURL?: string | undefined;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface ResolveResult {
  readonly url: string;
  readonly format?: string | null | undefined;
  readonly shortCircuit?: boolean;
}
interface LoadContext {
  readonly format?: string | null | undefined;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Readonly<Record<string, string>>;
}
interface LoadResult {
  readonly format?: string | null | undefined;
  readonly source?: string | Uint8Array | null | undefined;
  readonly shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context?: ResolveContext) => ResolveResult | Promise<ResolveResult>;
type NextLoad = (url: string, context?: LoadContext) => LoadResult | Promise<LoadResult>;

/** The two hooks, bound to one channel and one root. */
export interface ModuleHooks {
  resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): ResolveResult | Promise<ResolveResult>;
  load(url: string, context: LoadContext, nextLoad: NextLoad): LoadResult | Promise<LoadResult>;
}

/** The codes Node gives import attribute errors: Node 20 still names them after import assertions. */
const ATTRIBUTE_ERRORS =
  Number(process.versions.node.split('.')[0]) >= 22
    ? { missing: 'ERR_IMPORT_ATTRIBUTE_MISSING', incompatible: 'ERR_IMPORT_ATTRIBUTE_TYPE_INCOMPATIBLE' }
    : { missing: 'ERR_IMPORT_ASSERTION_TYPE_MISSING', incompatible: 'ERR_IMPORT_ASSERTION_TYPE_FAILED' };

/**
 * The worker runtime itself, `dist/worker.js` beside this file (the bundle of runtime.ts, which the
 * thread runs): what every import of {@link RUNTIME_SPECIFIER} in a worker gets, from a plugin module
 * or a package, whether the plugin's node_modules hold a copy of their own, the host's would be
 * found, or none at all. One module instance per thread, so what a plugin registers (`onDispose`) is
 * what the serve task runs.
 */
export const RUNTIME_URL = new URL('./worker.js', import.meta.url).href;

/** The hooks for one worker: plugin-owned modules through `channel`, everything else through Node. */
export function createModuleHooks(data: ModuleHooksData): ModuleHooks {
  const channel = new ModuleChannel(data);
  const ahead = new SentAhead();
  const ask = (question: ModuleQuestion): ModuleAnswer => {
    const answer = channel.ask(question);
    ahead.keep(answer);
    return answer;
  };
  const { root } = data;
  const owned = (url: string): boolean => isPluginOwned(url, root);
  return {
    resolve(specifier, context, nextResolve) {
      if (specifier === RUNTIME_SPECIFIER) return { url: RUNTIME_URL, shortCircuit: true };
      const parent = context.parentURL;
      if (parent === undefined || !owned(parent) || !asksHost(specifier)) return nextResolve(specifier, context);
      const require = context.conditions?.includes('require') === true;
      // A static import's resolution the host sent ahead is its answer to this very request.
      const answer =
        (require ? undefined : ahead.resolution(specifier, parent)) ??
        ask({ op: 'resolve', specifier, parent, require });
      if ('error' in answer) throw moduleError(answer.error.code, answer.error.message);
      if ('url' in answer) return { url: answer.url, shortCircuit: true };
      if (!('next' in answer))
        throw moduleError('GLEAN_LOAD_FAILED', `glean: unexpected answer to resolving ${specifier}`);
      return then(nextResolve(specifier, context), (result) => {
        // A package.json "imports" mapping is the plugin's own: it may lead into node_modules or stay in the root, no further.
        if (specifier.startsWith('#')) confined(result, specifier, parent, root);
        if (!owned(result.url)) return result;
        // Node read a package.json for this: the version keeps the first answer, so a restart resolves alike.
        const kept = ask({ op: 'resolved', specifier, parent, require, url: result.url });
        if ('error' in kept) throw moduleError(kept.error.code, kept.error.message);
        return 'url' in kept ? { url: kept.url, shortCircuit: true } : result;
      });
    },
    load(url, context, nextLoad) {
      if (!owned(url)) return nextLoad(url, context);
      const require = context.conditions?.includes('require') === true;
      // The host's answer to a load does not depend on `require` once `import` could load the module.
      const answer = ahead.module(url) ?? ask({ op: 'load', url, require });
      if ('error' in answer) throw moduleError(answer.error.code, answer.error.message);
      if (!('format' in answer)) throw moduleError('GLEAN_LOAD_FAILED', `glean: unexpected answer to loading ${url}`);
      const format: ModuleFormat = answer.format;
      // Node checks import attributes in its own load, which glean's replaces: checked here as Node does.
      const type = context.importAttributes?.['type'];
      if (!require && format === 'json' && type !== 'json')
        throw moduleError(ATTRIBUTE_ERRORS.missing, `Module "${url}" needs an import attribute of "type: json"`);
      if (!require && format !== 'json' && type === 'json')
        throw moduleError(ATTRIBUTE_ERRORS.incompatible, `Module "${url}" is not of type "json"`);
      // Node's CommonJS loader then asks the host itself (commonjs-hooks.ts); a null source tells Node to use it.
      if (format === 'commonjs' && data.commonJSThroughLoader === true)
        return { format, source: null, shortCircuit: true };
      return { format, source: answer.source, shortCircuit: true };
    },
  };
}

function then<T, U>(value: T | Promise<T>, next: (value: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

function confined(result: ResolveResult, specifier: string, parent: string, root: string): ResolveResult {
  const { url } = result;
  if (!url.startsWith('file:') || isPluginOwned(url, root) || url.includes('/node_modules/')) return result;
  throw moduleError(
    'GLEAN_OUTSIDE_ROOT',
    `${specifier} imported from ${parent} resolves to ${url}, outside the plugin root ${root}; plugin modules load only from inside it`,
  );
}

let registered: ModuleHooks | undefined;

/** `module.register`'s entry on the hooks thread: Node calls it once, with the data the worker passed. */
export function initialize(data: ModuleHooksData): void {
  registered = createModuleHooks(data);
}

/** The resolve hook as `module.register` calls it. */
export function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): ResolveResult | Promise<ResolveResult> {
  return registered === undefined
    ? nextResolve(specifier, context)
    : registered.resolve(specifier, context, nextResolve);
}

/** The load hook as `module.register` calls it. */
export function load(url: string, context: LoadContext, nextLoad: NextLoad): LoadResult | Promise<LoadResult> {
  return registered === undefined ? nextLoad(url, context) : registered.load(url, context, nextLoad);
}
