/**
 * Bundles the worker runtime after `tsc -b` (npm run build, and @glean/worker's prepack): what a
 * worker thread loads, as one file each, from packages/worker/dist:
 *
 *   dist/worker.js  the serve task and the plugin API (src/runtime.ts), comlink included
 *   dist/hooks.js   the module hooks a hooks thread runs on Node 20 and 22.12–22.14 (src/module-hooks.ts)
 *
 * Loading one module instead of a graph of them is most of what a worker's start costs over a bare
 * Worker's (docs/benchmarks.md, section 7).
 *
 * Node's built-ins are taken with `process.getBuiltinModule`, not imported: an `import` of a built-in
 * makes the loader build its ES module facade, which reads every export, and so loads what a getter
 * loads on first use (`node:fs` brings `fs/promises`, `readline`, the watchers and the file streams,
 * 15 modules that glean's runtime never uses). Each built-in becomes a small module of the bundle that
 * takes the names the runtime imports from it once, as the bundle is evaluated (before any plugin
 * code runs), as an import's bindings would be.
 *
 * Each file is written beside its place and renamed over it: a worker starting meanwhile (the
 * packaging test packs the package while other tests start workers) reads the old file or the new
 * one, never half of one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const dist = new URL('../packages/worker/dist/', import.meta.url);

/** `import X, { a, b as c } from 'node:x'` as tsc writes it; a namespace import (`* as`) is refused below. */
const BUILTIN_IMPORT =
  /^import\s+(?:([\w$]+)\s*,?\s*)?(\*\s*as\s+[\w$]+\s*)?(?:\{([^}]*)\})?\s*from\s*['"](node:[^'"]+)['"];/gm;

/** The names the runtime's modules import from each built-in, read from tsc's output. */
function builtinImports() {
  const names = new Map();
  for (const file of readdirSync(dist).filter((name) => name.endsWith('.js'))) {
    if (file === 'worker.js' || file === 'hooks.js') continue;
    const text = readFileSync(new URL(file, dist), 'utf8');
    for (const [, , namespace, list, id] of text.matchAll(BUILTIN_IMPORT)) {
      if (namespace !== undefined)
        throw new Error(`${file}: import a built-in by name or as a default, not as a namespace (${id})`);
      const taken = names.get(id) ?? new Set();
      for (const entry of (list ?? '').split(',')) {
        const name = entry.trim().split(/\s+as\s+/)[0];
        if (name !== undefined && name !== '') taken.add(name);
      }
      names.set(id, taken);
    }
  }
  return names;
}

/** Each `node:` import resolves to a module that takes the built-in from `process.getBuiltinModule`. */
function builtinsPlugin(imports) {
  return {
    name: 'glean-builtins',
    setup(bundle) {
      bundle.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'glean-builtin' }));
      bundle.onLoad({ filter: /.*/, namespace: 'glean-builtin' }, (args) => {
        const names = [...(imports.get(args.path) ?? [])];
        const taken = names.length === 0 ? '' : `export const { ${names.join(', ')} } = builtin;\n`;
        return {
          contents: `const builtin = process.getBuiltinModule(${JSON.stringify(args.path)});\nexport default builtin;\n${taken}`,
          loader: 'js',
        };
      });
    },
  };
}

const { outputFiles } = await build({
  entryPoints: { worker: new URL('runtime.js', dist).pathname, hooks: new URL('module-hooks.js', dist).pathname },
  outdir: dist.pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  logLevel: 'warning',
  plugins: [builtinsPlugin(builtinImports())],
  write: false,
});
for (const { path, contents } of outputFiles) {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}
