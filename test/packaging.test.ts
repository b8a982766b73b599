/**
 * The packages install: both are packed as npm would publish them (`npm pack`, which runs their
 * `prepack` build), installed together from the tarballs into a fresh application outside this
 * repository, and used there: an app imports `@glean/core`, loads a JavaScript and a TypeScript
 * plugin, calls them and closes; `npx glean --help` runs glean's own command. Both tarballs go in
 * one `npm install`, because `@glean/core` depends on `@glean/worker` at its exact version, which
 * no registry serves before the first release. Third-party dependencies come from npm's cache
 * (`--prefer-offline`) where it has them, as after `npm ci` here.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['worker', 'core'] as const;
type PackageName = (typeof PACKAGES)[number];

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Process groups still running, killed in afterAll whatever happened. */
const running = new Set<number>();

/**
 * Runs `command` in `cwd` in a process group of its own (npm starts children: the prepack build,
 * install scripts), so a timeout kills all of it. Rejects unless it exits 0.
 */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      const outcome = { code, signal, stdout, stderr };
      const what = `${command} ${args.join(' ')} (in ${cwd})`;
      if (timedOut) reject(new Error(`${what} took longer than ${timeoutMs} ms:\n${stdout}\n${stderr}`));
      else if (code !== 0) reject(new Error(`${what} exited ${code ?? signal}:\n${stdout}\n${stderr}`));
      else resolve(outcome);
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * This process's environment without what `npm test` adds for its own script: a nested npm must
 * not take the workspace settings or package fields of this repository's run. npm's configuration
 * (cache, registry, certificates) is kept. npx may not install anything: a `glean` it cannot find
 * locally must fail here, not fetch whatever the registry has under that name.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('npm_') && !lower.startsWith('npm_config_')) continue;
    if (/^npm_config_(workspaces?|include_workspace_root|local_prefix|call|user_agent|npm_version)$/.test(lower))
      continue;
    if (key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, npm_config_yes: 'false', npm_config_update_notifier: 'false' };
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let temp: string;
const packed = new Map<PackageName, PackResult>();
let app: string;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'glean-packaging-'));
  const tarballs = join(temp, 'tarballs');
  await mkdir(tarballs);
  for (const name of PACKAGES) {
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--pack-destination', tarballs],
      `${REPO}packages/${name}`,
      60_000,
    );
    const [result] = JSON.parse(stdout) as PackResult[];
    if (result === undefined) throw new Error(`npm pack of ${name} reported no tarball:\n${stdout}`);
    packed.set(name, result);
  }

  app = join(temp, 'app');
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'glean-packaging-app', private: true, type: 'module' }),
  );
  const files = PACKAGES.map((name) => join(tarballs, packed.get(name)!.filename));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files], app, 90_000);
}, 150_000);

afterAll(async () => {
  for (const pid of running) killGroup(pid);
  if (temp !== undefined) await rm(temp, { recursive: true, force: true });
});

describe('the tarballs', () => {
  test.each(PACKAGES)(
    '@glean/%s ships its build, sources for the source maps, README and LICENSE, and nothing else',
    async (name) => {
      const paths = packed
        .get(name)!
        .files.map((file) => file.path)
        .sort();
      const expected = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts'];
      if (name === 'core') expected.push('bin/glean.js', 'dist/cli.js', 'dist/http/index.js', 'dist/metrics/index.js');
      else expected.push('dist/entry.js', 'dist/start.cjs', 'dist/module-hooks.js', 'dist/worker.js', 'dist/hooks.js');
      expect(paths).toEqual(expect.arrayContaining(expected));

      const allowed = name === 'core' ? /^(bin|dist|src)\// : /^(dist|src)\//;
      const strays = paths.filter(
        (path) => !['package.json', 'README.md', 'LICENSE'].includes(path) && !allowed.test(path),
      );
      expect(strays).toEqual([]);
      expect(paths.filter((path) => /tsbuildinfo|(^|\/)test\/|\.test\./.test(path))).toEqual([]);

      // dist/ is this build, not also what an older one left: every output has its source. tsc -b
      // never deletes the output of a source that was renamed or removed.
      const stem = (path: string): string =>
        path.replace(/^(dist|src)\//, '').replace(/(\.d)?\.[cm]?[jt]s(\.map)?$/, '');
      const sources = new Set(paths.filter((path) => path.startsWith('src/')).map(stem));
      // The worker's bundles (scripts/bundle-worker.mjs) have their sources in src/runtime.ts and src/module-hooks.ts.
      const bundles = ['dist/worker.js', 'dist/hooks.js'];
      const stale = paths.filter(
        (path) => path.startsWith('dist/') && !bundles.includes(path) && !sources.has(stem(path)),
      );
      expect(stale, 'outputs of deleted sources; rm -rf packages/*/dist && npm run build').toEqual([]);

      expect(await readFile(`${REPO}packages/${name}/LICENSE`, 'utf8')).toBe(await readFile(`${REPO}LICENSE`, 'utf8'));
    },
  );
});

describe('an application that installed both tarballs', () => {
  test('imports @glean/core, loads a .mjs and a .ts plugin, calls them and exits once closed', async () => {
    await mkdir(join(app, 'plugins'));
    await writeFile(join(app, 'plugins/greet.mjs'), "export function greet(name) {\n  return 'Hello, ' + name;\n}\n");
    await writeFile(
      join(app, 'plugins/add.ts'),
      'export function add(a: number, b: number): number {\n  return a + b;\n}\n',
    );
    await writeFile(
      join(app, 'plugin.json'),
      JSON.stringify([
        { id: 'Greet', file: 'plugins/greet.mjs', name: 'greet', version: '1.0' },
        { id: 'Add', file: 'plugins/add.ts', name: 'add', version: '1.0' },
      ]),
    );
    // As the package README shows it, default options and all: close() must let the process exit.
    await writeFile(
      join(app, 'app.mjs'),
      [
        "import { Glean } from '@glean/core';",
        "const glean = new Glean('plugin.json');",
        'await glean.loadConfig();',
        "const greet = await glean.reloadAndWatch('Greet');",
        "const add = await glean.reloadAndWatch('Add');",
        "console.log(await greet('packaging'), await add(1, 2));",
        'await glean.close();',
        '',
      ].join('\n'),
    );
    const { stdout, stderr } = await run(process.execPath, ['app.mjs'], app, 20_000);
    expect({ stdout, stderr }).toEqual({ stdout: 'Hello, packaging 3\n', stderr: '' });

    // The one @glean/worker is the packed one, not a second copy under @glean/core.
    const worker = JSON.parse(await readFile(join(app, 'node_modules/@glean/worker/package.json'), 'utf8')) as {
      version: string;
    };
    expect(worker.version).toBe('0.1.0');
    await expect(
      readFile(join(app, 'node_modules/@glean/core/node_modules/@glean/worker/package.json')),
    ).rejects.toThrow(/ENOENT/);
  });

  test("@glean/core/metrics says prom-client is missing until the app installs it, then counts in the app's registry", async () => {
    // An optional peer: npm installs none, and glean brings no copy of its own.
    await expect(readFile(join(app, 'node_modules/prom-client/package.json'))).rejects.toThrow(/ENOENT/);
    await writeFile(
      join(app, 'metrics.mjs'),
      [
        "import { Glean } from '@glean/core';",
        "import { registerMetrics } from '@glean/core/metrics';",
        "const glean = new Glean('plugin.json', { watch: false });",
        'await glean.loadConfig();',
        'try {',
        "  const { Registry } = await import('prom-client');",
        '  const registry = new Registry();',
        '  registerMetrics(glean, { registry });',
        "  await (await glean.reloadAndWatch('Greet'))('metrics');",
        "  console.log((await registry.getSingleMetricAsString('glean_calls_total')).split('\\n').at(-1));",
        '} catch (error) {',
        "  console.log(error.code === 'ERR_MODULE_NOT_FOUND' ? 'no prom-client here' : '');",
        '  try {',
        '    registerMetrics(glean, { registry: { registerMetric() {}, removeSingleMetric() {} } });',
        '  } catch (missing) {',
        '    console.log(missing.name + ": " + missing.message);',
        '  }',
        '} finally {',
        '  await glean.close();',
        '}',
        '',
      ].join('\n'),
    );
    const before = await run(process.execPath, ['metrics.mjs'], app, 20_000);
    expect(before.stdout).toBe(
      'no prom-client here\nTypeError: @glean/core/metrics needs prom-client, an optional peer dependency of @glean/core that is not installed: run `npm install prom-client` in the application\n',
    );

    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', 'prom-client@^15'], app, 90_000);
    const after = await run(process.execPath, ['metrics.mjs'], app, 20_000);
    expect(after).toMatchObject({ stdout: 'glean_calls_total{id="Greet",version="1.0",outcome="ok"} 1\n', stderr: '' });
    // The one copy is the application's.
    await expect(readFile(join(app, 'node_modules/@glean/core/node_modules/prom-client/package.json'))).rejects.toThrow(
      /ENOENT/,
    );
  });

  test("npx glean --help runs glean's own command, from the app's node_modules", async () => {
    expect(await readlink(join(app, 'node_modules/.bin/glean'))).toBe('../@glean/core/bin/glean.js');
    const { stdout, stderr } = await run('npx', ['glean', '--help'], app, 20_000);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: glean <command> \[options\]\n/);
    expect(stdout).toContain('hash <file>...');
  });
});
