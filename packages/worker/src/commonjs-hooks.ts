/**
 * Plugin-owned CommonJS on Node before 22.15, where the module hooks run on a thread of their own and
 * see `import`s only: glean patches Node's CommonJS loader in the worker so that `require` of a
 * plugin-owned module asks the host too, over the worker's own module channel. Resolution of a
 * relative (or tsconfig `paths`) specifier from a plugin-owned module goes to the host; every
 * plugin-owned file Node's loader compiles comes from the host. Packages load untouched.
 */
import Module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ModuleChannel, moduleError } from './module-channel.js';
import { RUNTIME_URL } from './module-hooks.js';
import { isPluginOwned, RUNTIME_SPECIFIER } from './protocol.js';

interface CommonJSModule {
  exports: unknown;
  filename?: string | null;
  _compile(source: string, filename: string, format?: string): unknown;
}
type Extension = (this: unknown, module: CommonJSModule, filename: string) => void;
interface CommonJSLoader {
  _extensions: Record<string, Extension>;
  _resolveFilename(this: unknown, request: string, parent: CommonJSModule | undefined, ...rest: unknown[]): string;
}

/** Patches Node's CommonJS loader in this thread, once, to take plugin-owned modules from the host through `channel`. */
export function serveCommonJS(channel: ModuleChannel, root: string): void {
  const loader = Module as unknown as CommonJSLoader;
  const owned = (file: string): boolean => isPluginOwned(pathToFileURL(file).href, root);
  const fromHost = (fallback: Extension): Extension =>
    function (this: unknown, module, filename) {
      if (!owned(filename)) return fallback.call(this, module, filename);
      const answer = channel.ask({ op: 'load', url: pathToFileURL(filename).href, require: true });
      if ('error' in answer) throw moduleError(answer.error.code, answer.error.message);
      if (!('format' in answer))
        throw moduleError('GLEAN_LOAD_FAILED', `glean: unexpected answer to loading ${filename}`);
      if (answer.format === 'json') {
        try {
          module.exports = JSON.parse(answer.source);
        } catch (error) {
          (error as Error).message = `${filename}: ${(error as Error).message}`;
          throw error;
        }
        return;
      }
      // An ES module required from CommonJS: Node's require(esm) compiles it from this source.
      module._compile(answer.source, filename, answer.format);
    };
  // Every handler Node has (`.js`, `.json`, `.node`, and `.mjs` from 22.12): an extension without one of
  // its own (`.cjs`, `.ts`, `.cts` before 22.15) falls back to `.js`'s. A plugin-owned addon (`.node`)
  // is refused by the host, which cannot serve its bytes: the refusal is the error.
  if (loader._extensions['.js'] === undefined) throw new Error("glean: Node's CommonJS loader has no .js handler");
  for (const [extension, handler] of Object.entries(loader._extensions))
    loader._extensions[extension] = fromHost(handler);
  const resolveFilename = loader._resolveFilename;
  const runtime = fileURLToPath(RUNTIME_URL);
  loader._resolveFilename = function (this: unknown, request, parent, ...rest) {
    // The worker's own runtime, as the module hooks give it to an import (module-hooks.ts).
    if (request === RUNTIME_SPECIFIER) return runtime;
    const from = parent?.filename;
    if (typeof from !== 'string' || !owned(from) || Module.isBuiltin(request))
      return resolveFilename.call(this, request, parent, ...rest);
    const parentURL = pathToFileURL(from).href;
    const answer = channel.ask({ op: 'resolve', specifier: request, parent: parentURL, require: true });
    if ('error' in answer) throw moduleError(answer.error.code, answer.error.message);
    if ('url' in answer) return fileURLToPath(answer.url);
    const found = resolveFilename.call(this, request, parent, ...rest);
    if (!owned(found)) {
      if (request.startsWith('#') && found.startsWith('/') && !found.includes('/node_modules/'))
        throw moduleError(
          'GLEAN_OUTSIDE_ROOT',
          `${request} required from ${from} resolves to ${found}, outside the plugin root ${root}; plugin modules load only from inside it`,
        );
      return found;
    }
    // Node read a package.json for this ("imports", or the package's own name): the version keeps the first answer.
    const kept = channel.ask({
      op: 'resolved',
      specifier: request,
      parent: parentURL,
      require: true,
      url: pathToFileURL(found).href,
    });
    if ('error' in kept) throw moduleError(kept.error.code, kept.error.message);
    return 'url' in kept ? fileURLToPath(kept.url) : found;
  };
}
