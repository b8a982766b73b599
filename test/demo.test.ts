/**
 * The demo, started as `npm run demo` starts it — `node examples/httpserver/server.mjs`, in a
 * process of its own — but on a copy of the example and its plugins in a temp folder, so the
 * repository's plugin.json is never edited. It answers "Hello, world", then "Hello, gp" after the
 * config edit with no restart, stops cleanly on Ctrl-C, and drops no request while the config
 * switches back and forth under load.
 */
import { cp, symlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoPort, type Example, REPO, startExample } from './helpers/example.js';
import { tempDir, until, type TempDir } from './helpers/index.js';
const CONFIG = 'examples/httpserver/plugin.json';
const GREETINGS = ['Hello, world\n', 'Hello, gp\n'];

/** The example's config pointing at `plugin`, as a person would write it. */
const config = (plugin: 'plugin1' | 'plugin2'): string =>
  `[\n  { "id": "FooHandlerID", "file": "../../plugins/${plugin}/index.ts", "name": "FooHandler", "version": "1.0" }\n]\n`;

/** The running demo: its process, what it printed, and the URL it serves. */
interface Demo {
  readonly child: Example['child'];
  readonly url: string;
  readonly temp: TempDir;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** How many swaps it has reported. */
  reloads(): number;
  /** The process's OS thread count (`Threads:` in /proc/<pid>/status). */
  threads(): number;
}

/** Copies the example and the plugins to a temp folder, laid out as in the repository, and starts it there with PORT=0. */
async function startDemo(): Promise<Demo> {
  const temp = await tempDir();
  await cp(`${REPO}/examples/httpserver`, temp.path('examples/httpserver'), { recursive: true });
  await cp(`${REPO}/plugins`, temp.path('plugins'), { recursive: true });
  await temp.write(CONFIG, config('plugin1'));
  // The copy resolves @glean/core from the repository's install.
  await symlink(`${REPO}/node_modules`, temp.path('node_modules'));

  const example = startExample('examples/httpserver/server.mjs', { cwd: temp.dir, env: { ...process.env, PORT: '0' } });
  const port = await demoPort(example);
  const { child, output } = example;
  return {
    child,
    temp,
    url: `http://127.0.0.1:${port}/foo`,
    output,
    reloads: () => output().split('reloaded FooHandlerID').length - 1,
    threads: () => Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]),
  };
}

async function get(url: string): Promise<string> {
  const answer = await fetch(url);
  expect(answer.status).toBe(200);
  return answer.text();
}

/** Exits 0 on SIGINT, as Ctrl-C makes it. */
async function stopWithCtrlC(demo: Demo): Promise<void> {
  const exited = new Promise<number | null>((resolve) => demo.child.once('exit', (code) => resolve(code)));
  demo.child.kill('SIGINT');
  expect(await exited).toBe(0);
}

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  resets: number;
}
interface AutocannonInstance {
  stop(): void;
}
type Autocannon = (
  options: object,
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

/** autocannon ships no types; its import is untyped on purpose, typed by the little it is used for here. */
async function loadAutocannon(): Promise<Autocannon> {
  const name: string = 'autocannon';
  return ((await import(name)) as { default: Autocannon }).default;
}

describe('the basics example', () => {
  it("prints what glean's _example/test prints: values and sums from plugin1 and plugin2, pinned and watching handles", async () => {
    const { exited, output } = startExample('examples/basics/main.mjs');
    const code = await exited;
    expect(output()).toBe(
      [
        'loadSymbol',
        'using plugin1: value = 10',
        'using plugin2: value = 100',
        'using plugin1: 1+2 = 3',
        'using plugin2: 1+2 = 30',
        '',
        'the config names plugin1',
        'reload          using plugin1: value = 10, 1+2 = 3',
        'reloadAndWatch  using plugin1: value = 10, 1+2 = 3',
        '',
        'the config now names plugin2',
        'reload          using plugin1: value = 10, 1+2 = 3',
        'reloadAndWatch  using plugin2: value = 100, 1+2 = 30',
        '',
        'after glean.watch(pinned)',
        'reload + watch  using plugin2: value = 100, 1+2 = 30',
        '',
      ].join('\n'),
    );
    expect(code).toBe(0);
  });
});

describe('the httpserver demo', () => {
  it('answers Hello, world, then Hello, gp after the config edit with no restart, and exits 0 on Ctrl-C', async () => {
    const demo = await startDemo();
    expect(await get(demo.url)).toBe('Hello, world\n');

    await demo.temp.write(CONFIG, config('plugin2'));
    await until(() => demo.reloads() === 1, `the demo to report the swap:\n${demo.output()}`);
    expect(await get(demo.url)).toBe('Hello, gp\n');
    expect(demo.output()).toMatch(/reloaded FooHandlerID: \S+plugin1\/index\.ts → \S+plugin2\/index\.ts/);
    const status = await fetch(new URL('/glean/status', demo.url));
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      ready: true,
      generation: expect.stringMatching(/^[0-9a-f]{64}$/),
      plugins: { FooHandlerID: { state: 'ready', version: '1.0', file: expect.stringMatching(/plugin2\/index\.ts$/) } },
    });

    await stopWithCtrlC(demo);
  });

  it('drops no request while the config switches plugin1 ↔ plugin2 twenty times under load, and ends with no extra thread', async () => {
    const autocannon = await loadAutocannon();
    const demo = await startDemo();
    expect(await get(demo.url)).toBe('Hello, world\n');
    const baseline = demo.threads();

    const seen = new Map<string, number>();
    let loadEnded = Number.POSITIVE_INFINITY;
    let load!: AutocannonInstance;
    const result = new Promise<AutocannonResult>((resolve, reject) => {
      load = autocannon(
        {
          url: demo.url,
          connections: 4,
          // Steady, not saturating: the switches must get their share of two cores.
          overallRate: 500,
          // Longer than the test's timeout: it is stopped as soon as the twenty switches are done.
          duration: 120,
          verifyBody: (body: string) => {
            seen.set(body, (seen.get(body) ?? 0) + 1);
            return GREETINGS.includes(body);
          },
        },
        (error, done) => {
          loadEnded = performance.now();
          if (error === null) resolve(done);
          else reject(error);
        },
      );
    });
    let loadRanThroughout = false;
    try {
      for (let swap = 1; swap <= 20; swap++) {
        const content = config(swap % 2 === 1 ? 'plugin2' : 'plugin1');
        // Saved in place and renamed over, as editors do.
        await (swap % 2 === 1 ? demo.temp.write(CONFIG, content) : demo.temp.replace(CONFIG, content));
        await until(() => demo.reloads() === swap, `swap ${swap} to be reported:\n${demo.output()}`);
      }
      loadRanThroughout = loadEnded === Number.POSITIVE_INFINITY;
    } finally {
      load.stop();
    }
    const totals = await result;
    // All twenty switches happened under load, not after it ended.
    expect(loadRanThroughout).toBe(true);

    expect({
      errors: totals.errors,
      timeouts: totals.timeouts,
      non2xx: totals.non2xx,
      mismatches: totals.mismatches,
      resets: totals.resets,
    }).toEqual({
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      mismatches: 0,
      resets: 0,
    });
    expect(totals.requests.total).toBeGreaterThan(100);
    expect([...seen.keys()].sort()).toEqual([...GREETINGS].sort());
    // A save in place can be read half-written: that reload fails and the running version keeps
    // serving, as documented; the complete file is the next change. No worker crashed, nothing threw.
    expect(demo.output()).not.toMatch(/crash|Error:/i);
    // Every retired version's workers are gone: back to the count before the first switch.
    await until(
      () => demo.threads() <= baseline,
      `the demo's thread count back to ${baseline} (now ${demo.threads()})`,
    );

    await stopWithCtrlC(demo);
  });
});
