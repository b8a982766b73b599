/**
 * The TypeScript compilers that bench/compilers.mjs compares, each behind one small adapter that
 * turns a file's source, its module format and its tsconfig `compilerOptions` into JavaScript with an
 * inline source map, the way glean's host would call it.
 *
 * esbuild comes from the checkout's node_modules. The others are not glean dependencies: install
 * them for a measurement into a folder of their own and name it in `BENCH_COMPILERS_DIR`
 * (`npm install --prefix /tmp/glean-compilers oxc-transform @swc/core amaro @oxc-project/runtime`), or with
 * `npm install --no-save` in the checkout (which the next `npm ci` removes). A package is looked for
 * in that folder first, then in the checkout.
 *
 * @typedef {object} CompileRequest
 * @property {string} file        Absolute path, used for the loader choice and the source map's `sources`.
 * @property {'esm' | 'cjs'} format  The module format the output must have (`.cts` and CommonJS `.ts` are 'cjs').
 * @property {Record<string, unknown>} [compilerOptions]  A tsconfig's `compilerOptions`, passed through.
 *
 * @typedef {object} Compiler
 * @property {string} key       Stable name, used in the JSON.
 * @property {string} label     Name in the printed tables.
 * @property {string} package   The npm package it needs ('' for Node's own).
 * @property {() => string | undefined} missing  Why it cannot run here (not installed, Node too old), or undefined.
 * @property {() => Promise<unknown>} load       Loads the compiler (the package's import and nothing more).
 * @property {(api: unknown, source: string, request: CompileRequest) => Promise<string>} compile
 * @property {(api: unknown) => Promise<void>} [stop]  Ends what the compiler keeps running, if it can.
 * @property {string[]} [runtimePackages]  Packages its output may import (helpers), which the host must provide.
 * @property {boolean} [erasableOnly]  Takes only TypeScript that erasing types leaves valid JavaScript (no enum, namespace, parameter property).
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const CHECKOUT = createRequire(import.meta.url);
const EXTRA = process.env.BENCH_COMPILERS_DIR;
const FOLDER = EXTRA === undefined ? undefined : createRequire(path.join(path.resolve(EXTRA), 'noop.js'));

/** The path `name` resolves to, from `BENCH_COMPILERS_DIR` first, then the checkout; undefined if neither has it. */
export function resolvePackage(name) {
  for (const require of [FOLDER, CHECKOUT]) {
    if (require === undefined) continue;
    try {
      return require.resolve(name);
    } catch {}
  }
  return undefined;
}

/** The package's `version`, read next to its resolved entry point. */
export function packageVersion(name) {
  const entry = resolvePackage(name);
  if (entry === undefined) return undefined;
  const marker = `${path.sep}node_modules${path.sep}${name.replace('/', path.sep)}${path.sep}`;
  const root = entry.slice(0, entry.lastIndexOf(marker) + marker.length);
  return CHECKOUT(path.join(root, 'package.json')).version;
}

const requirePackage = (name) => CHECKOUT(resolvePackage(name));

const notInstalled = (name) => () =>
  resolvePackage(name) === undefined
    ? `${name} is not installed: npm install --prefix <folder> ${name}, then BENCH_COMPILERS_DIR=<folder>`
    : undefined;

const isTsx = (file) => file.endsWith('.tsx');

/** `code` with `map` (a source map object or its JSON) appended as a data URL comment. */
function withInlineMap(code, map) {
  const json = typeof map === 'string' ? map : JSON.stringify(map);
  return `${code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(json).toString('base64')}\n`;
}

/** tsconfig's `jsx` as the classic or automatic runtime; `preserve` and unset stay JSX the host cannot run. */
function jsxRuntime(options) {
  if (options.jsx === 'react') return 'classic';
  if (options.jsx === 'react-jsx' || options.jsx === 'react-jsxdev') return 'automatic';
  return undefined;
}

/**
 * esbuild reads tsconfig's compilerOptions itself (`tsconfigRaw`): experimentalDecorators,
 * useDefineForClassFields, jsx, jsxFactory, jsxFragmentFactory, jsxImportSource,
 * verbatimModuleSyntax, preserveValueImports, importsNotUsedAsValues, target (only for the class
 * fields default), and ignores the rest. `target: 'node20'` is the oldest Node glean runs on.
 * `platform: 'node'` makes CommonJS output end with `0 && (module.exports = { … })`, the annotation
 * from which Node's cjs-module-lexer learns the export names an ES module may import by name.
 */
const esbuildOptions = (source, { file, format, compilerOptions = {} }) => [
  source,
  {
    loader: isTsx(file) ? 'tsx' : 'ts',
    format,
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: file,
    tsconfigRaw: { compilerOptions },
  },
];

/** swc takes no tsconfig: each compilerOption that changes output is mapped by hand. */
function swcOptions(source, { file, format, compilerOptions: co = {} }) {
  const runtime = jsxRuntime(co);
  return [
    source,
    {
      filename: file,
      swcrc: false,
      configFile: false,
      sourceMaps: 'inline',
      module: { type: format === 'cjs' ? 'commonjs' : 'es6' },
      jsc: {
        parser: { syntax: 'typescript', tsx: isTsx(file), decorators: true },
        // swc's default target is ES5; ES2022 leaves classes and fields as they are.
        target: 'es2022',
        keepClassNames: true,
        transform: {
          legacyDecorator: co.experimentalDecorators === true,
          decoratorMetadata: co.emitDecoratorMetadata === true,
          decoratorVersion: co.experimentalDecorators === true ? '2021-12' : '2022-03',
          useDefineForClassFields: co.useDefineForClassFields !== false,
          verbatimModuleSyntax: co.verbatimModuleSyntax === true,
          ...(runtime === undefined
            ? {}
            : {
                react: {
                  runtime,
                  development: co.jsx === 'react-jsxdev',
                  ...(co.jsxFactory === undefined ? {} : { pragma: co.jsxFactory }),
                  ...(co.jsxFragmentFactory === undefined ? {} : { pragmaFrag: co.jsxFragmentFactory }),
                  ...(co.jsxImportSource === undefined ? {} : { importSource: co.jsxImportSource }),
                },
              }),
        },
      },
    },
  ];
}

/**
 * oxc takes no tsconfig either. It has no CommonJS output (`format` cannot be honoured), and its
 * `useDefineForClassFields: false` takes two options plus a target below ES2022, since it only
 * rewrites class fields when it lowers them.
 */
function oxcOptions(source, { file, compilerOptions: co = {} }) {
  const runtime = jsxRuntime(co);
  const assignFields = co.useDefineForClassFields === false;
  return [
    file,
    source,
    {
      lang: isTsx(file) ? 'tsx' : 'ts',
      sourceType: 'module',
      sourcemap: true,
      target: assignFields ? 'es2021' : 'node20',
      decorator: {
        legacy: co.experimentalDecorators === true,
        emitDecoratorMetadata: co.emitDecoratorMetadata === true,
      },
      typescript: {
        onlyRemoveTypeImports: co.verbatimModuleSyntax === true,
        removeClassFieldsWithoutInitializer: assignFields,
      },
      assumptions: { setPublicClassFields: assignFields },
      ...(runtime === undefined
        ? {}
        : {
            jsx: {
              runtime,
              development: co.jsx === 'react-jsxdev',
              ...(co.jsxFactory === undefined ? {} : { pragma: co.jsxFactory }),
              ...(co.jsxFragmentFactory === undefined ? {} : { pragmaFrag: co.jsxFragmentFactory }),
              ...(co.jsxImportSource === undefined ? {} : { importSource: co.jsxImportSource }),
            },
          }),
    },
  ];
}

function oxcResult(result) {
  // oxc reports syntax and semantic errors in the result instead of throwing.
  const error = result.errors.find((e) => e.severity === 'Error');
  if (error !== undefined) throw new Error(`oxc: ${error.message}`);
  return withInlineMap(result.code, result.map);
}

/** Node's `module.stripTypeScriptTypes`, on Node 22.13+ and 23.2+ only (experimental there). */
function nodeStrip(mode) {
  return {
    key: `node-${mode}`,
    label: `node:module stripTypeScriptTypes '${mode}'`,
    package: '',
    missing: () =>
      typeof CHECKOUT('node:module').stripTypeScriptTypes === 'function'
        ? undefined
        : `module.stripTypeScriptTypes is not in Node ${process.version} (Node 22.13+, 23.2+)`,
    load: async () => CHECKOUT('node:module'),
    compile: async (api, source, { file }) =>
      api.stripTypeScriptTypes(source, mode === 'strip' ? { mode } : { mode, sourceMap: true, sourceUrl: file }),
    erasableOnly: mode === 'strip',
  };
}

/** Every compiler, in table order. */
export const COMPILERS = [
  {
    key: 'esbuild',
    label: 'esbuild transform (async)',
    package: 'esbuild',
    missing: notInstalled('esbuild'),
    load: async () => requirePackage('esbuild'),
    compile: async (api, source, request) => (await api.transform(...esbuildOptions(source, request))).code,
    stop: async (api) => api.stop(),
  },
  {
    key: 'esbuild-sync',
    label: 'esbuild transformSync',
    package: 'esbuild',
    missing: notInstalled('esbuild'),
    load: async () => requirePackage('esbuild'),
    compile: async (api, source, request) => api.transformSync(...esbuildOptions(source, request)).code,
    stop: async (api) => api.stop(),
  },
  {
    key: 'oxc',
    label: 'oxc-transform transformSync',
    package: 'oxc-transform',
    missing: notInstalled('oxc-transform'),
    load: async () => requirePackage('oxc-transform'),
    compile: async (api, source, request) => oxcResult(api.transformSync(...oxcOptions(source, request))),
    runtimePackages: ['@oxc-project/runtime'],
  },
  {
    key: 'swc',
    label: '@swc/core transform (async)',
    package: '@swc/core',
    missing: notInstalled('@swc/core'),
    load: async () => requirePackage('@swc/core'),
    compile: async (api, source, request) => (await api.transform(...swcOptions(source, request))).code,
  },
  {
    key: 'swc-sync',
    label: '@swc/core transformSync',
    package: '@swc/core',
    missing: notInstalled('@swc/core'),
    load: async () => requirePackage('@swc/core'),
    compile: async (api, source, request) => api.transformSync(...swcOptions(source, request)).code,
  },
  {
    key: 'amaro',
    label: "amaro transformSync 'transform'",
    package: 'amaro',
    missing: notInstalled('amaro'),
    load: async () => requirePackage('amaro'),
    compile: async (api, source, { file }) => {
      const { code, map } = api.transformSync(source, { mode: 'transform', sourceMap: true, filename: file });
      return map === undefined ? code : withInlineMap(code, map);
    },
  },
  nodeStrip('strip'),
  nodeStrip('transform'),
];

/** The compiler named `key`; throws for a name it does not know. */
export function compilerByKey(key) {
  const compiler = COMPILERS.find((c) => c.key === key);
  if (compiler === undefined) throw new Error(`no compiler ${JSON.stringify(key)}`);
  return compiler;
}
