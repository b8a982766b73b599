/**
 * What each compiler can do for glean, found by running what it produced: each feature compiles one
 * or more small TypeScript files with the tsconfig compilerOptions named, runs the output in a new
 * Node process (this one's `process.execPath`), and passes only if that process prints `PASS`.
 */
import { spawn } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { resolvePackage } from './compilers.mjs';
import { scratchFolder } from './scratch.mjs';

const print = "console.log(ok ? 'PASS' : 'FAIL ' + detail);";

/** A load hook that serves `compiled.js` for the file `name`, as `format`: how glean's host serves compiled code. */
const hooks = (name, format) => `import { readFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.endsWith('/${name}')) {
    return { format: '${format}', source: readFileSync(new URL('./compiled.js', url), 'utf8'), shortCircuit: true };
  }
  return next(url, context);
}
`;

/** A driver that loads `name` through the hooks above with source maps on and prints the line its error points at. */
const stackDriver = (name, expectedLine) => `import { register } from 'node:module';
process.setSourceMapsEnabled(true);
register('./hooks.mjs', import.meta.url);
const { fail } = await import('./${name}');
try {
  fail({ value: 1 });
} catch (error) {
  const at = /${name.replace('.', '\\.')}:(\\d+):\\d+/.exec(error.stack);
  const ok = at !== null && at[1] === '${expectedLine}';
  const detail = at === null ? 'no ${name} frame in the stack of ' + String(error) : 'line ' + at[1];
  ${print}
}
`;

const FAILING = `interface Unused {
  a: number;
  b: string;
}
type Alias<T> = { value: T };
export function fail(input: Alias<number>): never {
  const message: string = \`bad \${input.value}\`;
  throw new Error(message);
}
`;

const CLASS_FIELDS = `let setterCalls = 0;
class Base {
  set value(_: number) {
    setterCalls++;
  }
}
class Derived extends Base {
  value = 1;
}
const own = Object.hasOwn(new Derived(), 'value');
`;

/**
 * The features, in table order. Each check is `{ file, format, compilerOptions, source, files?, run? }`:
 * the output is written to `file` with `.mjs` or `.cjs` for its extension, `files` beside it, and
 * `run` (default: the output itself) is the file Node runs.
 */
export const FEATURES = [
  {
    key: 'legacyDecorators',
    label: 'experimentalDecorators (method decorator gets a descriptor)',
    checks: [
      {
        file: 'case.ts',
        compilerOptions: { experimentalDecorators: true },
        source: `const seen: string[] = [];
function logged(target: object, key: string, descriptor: PropertyDescriptor): PropertyDescriptor {
  seen.push(typeof target, key, typeof descriptor.value);
  const original = descriptor.value as (...args: unknown[]) => string;
  descriptor.value = function (this: unknown, ...args: unknown[]) {
    return 'logged ' + original.apply(this, args);
  };
  return descriptor;
}
class Greeter {
  @logged
  greet(name: string): string {
    return 'hi ' + name;
  }
}
const result = new Greeter().greet('x');
const ok = seen.join() === 'object,greet,function' && result === 'logged hi x';
const detail = JSON.stringify({ seen, result });
${print}
`,
      },
    ],
  },
  {
    key: 'decoratorMetadata',
    label: 'emitDecoratorMetadata (Reflect.metadata called)',
    checks: [
      {
        file: 'case.ts',
        compilerOptions: { experimentalDecorators: true, emitDecoratorMetadata: true },
        source: `const recorded: string[] = [];
(Reflect as unknown as { metadata: unknown }).metadata = (key: string, value: unknown) => {
  recorded.push(key + '=' + (Array.isArray(value) ? value.map((v) => v.name).join(',') : String(value)));
  return () => {};
};
function injectable(_: unknown): void {}
class Service {}
@injectable
class Consumer {
  constructor(readonly service: Service, readonly size: number) {}
}
const ok = recorded.includes('design:paramtypes=Service,Number') && typeof Consumer === 'function';
const detail = JSON.stringify(recorded);
${print}
`,
      },
    ],
  },
  {
    key: 'standardDecorators',
    label: 'standard (TC39) decorators lowered, run by Node',
    checks: [
      {
        file: 'case.ts',
        compilerOptions: { target: 'ES2022' },
        source: `const kinds: string[] = [];
function bound<T extends object>(value: (this: T) => number, context: ClassMethodDecoratorContext<T>) {
  kinds.push(context.kind + ':' + String(context.name));
  context.addInitializer(function (this: T) {
    (this as Record<string | symbol, unknown>)[context.name] = value.bind(this);
  });
}
class Counter {
  count = 1;
  @bound
  inc(): number {
    return ++this.count;
  }
}
const inc = new Counter().inc;
const result = inc();
const ok = result === 2 && kinds.join() === 'method:inc';
const detail = JSON.stringify({ kinds, result });
${print}
`,
      },
    ],
  },
  {
    key: 'enumNamespace',
    label: 'enum and namespace',
    checks: [
      {
        file: 'case.ts',
        source: `enum Color {
  Red,
  Green,
  Blue = 4,
}
namespace Shapes {
  export const sides = 3;
  export function perimeter(length: number): number {
    return length * sides;
  }
}
const ok = Color.Green === 1 && Color[4] === 'Blue' && Shapes.perimeter(2) === 6;
const detail = JSON.stringify({ Color, six: Shapes.perimeter(2) });
${print}
`,
      },
    ],
  },
  {
    key: 'jsxFactory',
    label: "TSX, tsconfig jsx 'react' + jsxFactory/jsxFragmentFactory",
    checks: [
      {
        file: 'case.tsx',
        compilerOptions: { jsx: 'react', jsxFactory: 'h', jsxFragmentFactory: 'Frag' },
        source: `const Frag = 'frag';
function h(tag: string, props: Record<string, unknown> | null, ...children: unknown[]): unknown[] {
  return [tag, props?.id ?? null, ...children];
}
const tree = (
  <>
    <p id="a">{1}</p>
  </>
);
const ok = JSON.stringify(tree) === '["frag",null,["p","a",1]]';
const detail = JSON.stringify(tree);
${print}
`,
      },
    ],
  },
  {
    key: 'jsxImportSource',
    label: "TSX, tsconfig jsx 'react-jsx' + jsxImportSource",
    checks: [
      {
        file: 'case.tsx',
        compilerOptions: { jsx: 'react-jsx', jsxImportSource: 'tiny-jsx' },
        files: {
          'node_modules/tiny-jsx/package.json': JSON.stringify({
            name: 'tiny-jsx',
            type: 'module',
            exports: { './jsx-runtime': './jsx-runtime.js' },
          }),
          'node_modules/tiny-jsx/jsx-runtime.js': `export const Fragment = 'frag';
export const jsx = (tag, props) => [tag, props.id ?? null, props.children];
export const jsxs = jsx;
`,
        },
        source: `const tree = (
  <>
    <p id="a">{1}</p>
  </>
);
const ok = JSON.stringify(tree) === '["frag",null,["p","a",1]]';
const detail = JSON.stringify(tree);
${print}
`,
      },
    ],
  },
  {
    key: 'ctsToCommonJs',
    label: '.cts: ESM syntax to CommonJS (exports.x, default import of node:fs)',
    checks: [
      {
        file: 'case.cts',
        format: 'cjs',
        source: `import fs from 'node:fs';
export const x = 1;
export const read = typeof fs.readFileSync;
`,
        files: {
          'driver.cjs': `const loaded = require('./case.cjs');
const ok = loaded.x === 1 && loaded.read === 'function';
const detail = JSON.stringify(loaded);
${print}
`,
        },
        run: 'driver.cjs',
      },
    ],
  },
  {
    key: 'importRequireExportEquals',
    label: ".cts: import x = require('y') and export =",
    checks: [
      {
        file: 'case.cts',
        format: 'cjs',
        source: `import path = require('node:path');
export = { joined: path.join('a', 'b') };
`,
        files: {
          'driver.cjs': `const loaded = require('./case.cjs');
const ok = loaded.joined === 'a/b';
const detail = JSON.stringify(loaded);
${print}
`,
        },
        run: 'driver.cjs',
      },
    ],
  },
  {
    key: 'useDefineForClassFields',
    label: 'useDefineForClassFields honoured (true and false)',
    checks: [
      {
        file: 'case.ts',
        compilerOptions: { useDefineForClassFields: true },
        source: `${CLASS_FIELDS}const ok = own && setterCalls === 0;\nconst detail = 'true: ' + JSON.stringify({ own, setterCalls });\n${print}\n`,
      },
      {
        file: 'case.ts',
        compilerOptions: { useDefineForClassFields: false },
        source: `${CLASS_FIELDS}const ok = !own && setterCalls === 1;\nconst detail = 'false: ' + JSON.stringify({ own, setterCalls });\n${print}\n`,
      },
    ],
  },
  {
    key: 'sourceMapEsm',
    label: 'inline source map: ESM served by a module.register hook, stack at the .ts line',
    checks: [
      {
        file: 'plugin.ts',
        source: FAILING,
        output: 'compiled.js',
        files: {
          'plugin.ts': FAILING,
          'hooks.mjs': hooks('plugin.ts', 'module'),
          'driver.mjs': stackDriver('plugin.ts', 8),
        },
        run: 'driver.mjs',
      },
    ],
  },
  {
    key: 'sourceMapCjs',
    label: "inline source map: CommonJS served by a module.register hook (format 'commonjs')",
    checks: [
      {
        file: 'plugin.cts',
        format: 'cjs',
        source: FAILING,
        output: 'compiled.js',
        files: {
          'plugin.cts': FAILING,
          'hooks.mjs': hooks('plugin.cts', 'commonjs'),
          'driver.mjs': stackDriver('plugin.cts', 8),
        },
        run: 'driver.mjs',
      },
    ],
  },
];

/** Runs `node file` in `cwd`; resolves `{ code, stdout, stderr }`, killing it after 10 s. */
function runNode(file, cwd) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The first line that says why, from an error or a process's output, cut to 160 characters. */
function reason(text) {
  const lines = String(text)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('at ') && !line.startsWith('(Use `node'));
  const line = lines.find((l) => /Error|error|FAIL|not /.test(l)) ?? lines[0] ?? 'no output';
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

/** Links the helper packages a compiler's output imports into `dir`'s node_modules, where they are installed. */
async function linkRuntime(compiler, dir) {
  for (const name of compiler.runtimePackages ?? []) {
    const entry = resolvePackage(`${name}/package.json`);
    if (entry === undefined) continue;
    const target = path.join(dir, 'node_modules', name);
    await mkdir(path.dirname(target), { recursive: true });
    await symlink(path.dirname(entry), target, 'dir');
  }
}

/** One check: `{ ok: true, imports? }` or `{ ok: false, why }`; `imports` names the helper packages its output imports. */
async function runCheck(compiler, api, check) {
  const folder = await scratchFolder('compiler-feature');
  try {
    const format = check.format ?? 'esm';
    let code;
    try {
      code = await compiler.compile(api, check.source, {
        file: folder.file(check.file),
        format,
        compilerOptions: check.compilerOptions ?? {},
      });
    } catch (error) {
      return { ok: false, why: `compile: ${reason(error?.message ?? error)}` };
    }
    const output = check.output ?? `case.${format === 'cjs' ? 'cjs' : 'mjs'}`;
    for (const [name, text] of Object.entries(check.files ?? {})) {
      await mkdir(path.dirname(folder.file(name)), { recursive: true });
      await folder.write(name, text);
    }
    await folder.write(output, code);
    await linkRuntime(compiler, folder.dir);
    const { code: exitCode, stdout, stderr } = await runNode(check.run ?? output, folder.dir);
    const imports = (compiler.runtimePackages ?? []).filter((name) => code.includes(name));
    if (exitCode === 0 && stdout.trim() === 'PASS') return imports.length === 0 ? { ok: true } : { ok: true, imports };
    return { ok: false, why: `run: ${reason(stdout.includes('FAIL') ? stdout : stderr || stdout)}` };
  } finally {
    await folder.remove();
  }
}

/** Every feature for one compiler: `{ [key]: { ok, why?, imports? } }`; a feature passes if all its checks do. */
export async function featuresOf(compiler, api) {
  const results = {};
  for (const feature of FEATURES) {
    const imports = new Set();
    let outcome = { ok: true };
    for (const check of feature.checks) {
      outcome = await runCheck(compiler, api, check);
      if (!outcome.ok) break;
      for (const name of outcome.imports ?? []) imports.add(name);
    }
    results[feature.key] = outcome.ok && imports.size > 0 ? { ok: true, imports: [...imports] } : outcome;
  }
  return results;
}
