/**
 * `resourceLimits` values that Node would let take the whole host down (not just the worker) are
 * refused by the config: `stackSizeMb: 0.2` overflows the thread's stack while it boots (exit 6),
 * `codeRangeSizeMb: 1e8` cannot be reserved (SIGTRAP), `maxOldGenerationSizeMb: 2` is a fatal
 * out-of-memory on Node 22 and 24. Out of range is GLEAN_CONFIG_INVALID at its place, at load and on a
 * hot edit (the running version keeps serving); the edges of each range start a worker that serves.
 * A worker that cannot start for another reason (no address space for its stack) is GLEAN_LOAD_FAILED.
 * The measurements behind the ranges are in docs/errors.md.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RESOURCE_LIMIT_RANGES, parseConfig, type ResourceLimits } from '../packages/core/src/config.js';
import { ErrorCode, type GleanError } from '@glean/core';
import { tempDir, threadsBackTo } from './helpers/index.js';
import { rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

const GREET = `import { threadId } from 'node:worker_threads';
export function greet(name) { return 'v1:' + name; }
export function whichThread() { return threadId; }
`;

type Key = keyof ResourceLimits;
const KEYS = Object.keys(RESOURCE_LIMIT_RANGES) as Key[];

/** The issues parseConfig reports for `text`, without their line and column (config.test.ts pins those). */
function issuesIn(text: string): unknown {
  try {
    parseConfig(text, '/cfg/plugin.json');
  } catch (error) {
    return (error as GleanError).issues?.map(({ line, column, ...issue }) => issue);
  }
  return [];
}

/** The issues parseConfig reports for one entry with `resourceLimits`. */
function issuesFor(resourceLimits: Record<string, unknown>): unknown {
  return issuesIn(JSON.stringify([{ id: 'G', file: 'greet.mjs', name: 'greet', resourceLimits }]));
}

describe('the ranges', () => {
  it('are pinned', () => {
    expect(RESOURCE_LIMIT_RANGES).toEqual({
      maxOldGenerationSizeMb: { min: 16, max: 1_048_576 },
      maxYoungGenerationSizeMb: { min: 1, max: 1_048_576 },
      codeRangeSizeMb: { min: 1, max: 1024 },
      stackSizeMb: { min: 1, max: 1024 },
    });
  });

  // The values measured to abort the host (docs/errors.md), then the first ones outside each range.
  it.each([
    ['stackSizeMb', 0.2, 'a number from 1 to 1024'],
    ['stackSizeMb', 0.23, 'a number from 1 to 1024'],
    ['stackSizeMb', 1e9, 'a number from 1 to 1024'],
    ['stackSizeMb', 1e300, 'a number from 1 to 1024'],
    ['codeRangeSizeMb', 1e8, 'a number from 1 to 1024'],
    ['maxOldGenerationSizeMb', 2, 'a number from 16 to 1048576'],
    ['stackSizeMb', 0.999, 'a number from 1 to 1024'],
    ['stackSizeMb', 1024.5, 'a number from 1 to 1024'],
    ['codeRangeSizeMb', 0.5, 'a number from 1 to 1024'],
    ['codeRangeSizeMb', 1025, 'a number from 1 to 1024'],
    ['maxOldGenerationSizeMb', 15.9, 'a number from 16 to 1048576'],
    ['maxOldGenerationSizeMb', 1_048_577, 'a number from 16 to 1048576'],
    ['maxYoungGenerationSizeMb', 0.5, 'a number from 1 to 1048576'],
    ['maxYoungGenerationSizeMb', 1e20, 'a number from 1 to 1048576'],
    ['maxYoungGenerationSizeMb', -1, 'a number from 1 to 1048576'],
  ] as const)('%s: %d is GLEAN_CONFIG_INVALID at its place', (key, value, expected) => {
    expect(issuesFor({ [key]: value })).toEqual([
      { code: 'invalid-value', path: [0, 'resourceLimits', key], message: `expected ${expected}, received ${value}` },
    ]);
  });

  it('a value that is not a number says the range too', () => {
    expect(issuesFor({ stackSizeMb: '4' })).toEqual([
      {
        code: 'invalid-value',
        path: [0, 'resourceLimits', 'stackSizeMb'],
        message: 'expected a number from 1 to 1024, received string',
      },
    ]);
  });

  it('a number too large for JSON (Infinity) is refused like any other', () => {
    expect(issuesIn('{"defaults":{"resourceLimits":{"codeRangeSizeMb":1e400}},"plugins":[]}')).toEqual([
      {
        code: 'invalid-value',
        path: ['defaults', 'resourceLimits', 'codeRangeSizeMb'],
        message: 'expected a number from 1 to 1024, received Infinity',
      },
    ]);
  });

  it('the edges themselves are accepted', () => {
    for (const key of KEYS) {
      const { min, max } = RESOURCE_LIMIT_RANGES[key];
      expect(issuesFor({ [key]: min })).toEqual([]);
      expect(issuesFor({ [key]: max })).toEqual([]);
    }
  });
});

describe('out of range in a running Glean', () => {
  it('at load: GLEAN_CONFIG_INVALID naming the place, and no thread starts', async () => {
    const { glean, temp, baseline } = await startGlean({
      files: { 'greet.mjs': GREET },
      config: {
        defaults: { resourceLimits: { codeRangeSizeMb: 1e8 } },
        plugins: [{ id: 'G', file: 'greet.mjs', name: 'greet', resourceLimits: { stackSizeMb: 0.2 } }],
      },
      load: false,
    });

    const error = await rejectionOf(glean.loadConfig());
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.message.replaceAll(temp.dir, '<dir>')).toMatchInlineSnapshot(`
      "config <dir>/plugin.json is invalid:
        defaults.resourceLimits.codeRangeSizeMb (line 4, column 26): expected a number from 1 to 1024, received 100000000
        plugins[0].resourceLimits.stackSizeMb (line 13, column 24): expected a number from 1 to 1024, received 0.2"
    `);
    expect(error.issues?.map((issue) => issue.path)).toEqual([
      ['defaults', 'resourceLimits', 'codeRangeSizeMb'],
      ['plugins', 0, 'resourceLimits', 'stackSizeMb'],
    ]);
    await threadsBackTo(baseline);
  });

  it.each([
    ['stackSizeMb', 0.2],
    ['codeRangeSizeMb', 1e8],
    ['maxOldGenerationSizeMb', 2],
    ['maxYoungGenerationSizeMb', 1e20],
  ] as const)(
    'on a hot edit, %s: %d: reloadConfig() rejects GLEAN_CONFIG_INVALID and the running version keeps serving',
    async (key, value) => {
      const entries = [
        { id: 'G', file: 'greet.mjs', name: 'greet' },
        { id: 'T', file: 'greet.mjs', name: 'whichThread' },
      ];
      const { glean, temp } = await startGlean({ files: { 'greet.mjs': GREET }, config: entries });
      const greet = await glean.reloadAndWatch<(name: string) => string>('G');
      const thread = await (await glean.reloadAndWatch<() => number>('T'))();
      const before = glean.status();

      await temp.replace(
        'plugin.json',
        entries.map((entry) => ({ ...entry, resourceLimits: { [key]: value } })),
      );
      const error = await rejectionOf(glean.reloadConfig());
      expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
      expect(error.issues?.[0]?.path).toEqual([0, 'resourceLimits', key]);
      expect(await greet('still')).toBe('v1:still');
      expect(await (await glean.reloadAndWatch<() => number>('T'))()).toBe(thread);
      expect(Object.keys(glean.status())).toEqual(Object.keys(before));
    },
  );
});

describe('the edges start a worker that serves a call', () => {
  const edges = KEYS.flatMap((key) => [
    [key, RESOURCE_LIMIT_RANGES[key].min],
    [key, RESOURCE_LIMIT_RANGES[key].max],
  ]) as [Key, number][];

  it.each(edges)('%s: %d', async (key, value) => {
    const { glean } = await startGlean({
      files: { 'greet.mjs': GREET },
      config: [{ id: 'G', file: 'greet.mjs', name: 'greet', resourceLimits: { [key]: value } }],
      prewarm: false,
    });
    expect(await (await glean.reloadAndWatch<(name: string) => string>('G'))('edge')).toBe('v1:edge');
  });

  it('every key at its minimum at once, and every key at its maximum at once', async () => {
    const at = (end: 'min' | 'max'): ResourceLimits =>
      Object.fromEntries(KEYS.map((key) => [key, RESOURCE_LIMIT_RANGES[key][end]]));
    const { glean } = await startGlean({
      files: { 'greet.mjs': GREET },
      config: [
        { id: 'Min', file: 'greet.mjs', name: 'greet', resourceLimits: at('min') },
        { id: 'Max', file: 'greet.mjs', name: 'greet', resourceLimits: at('max') },
      ],
      prewarm: false,
    });
    expect(await (await glean.reloadAndWatch<(name: string) => string>('Min'))('a')).toBe('v1:a');
    expect(await (await glean.reloadAndWatch<(name: string) => string>('Max'))('b')).toBe('v1:b');
  });
});

describe('a worker that cannot start', () => {
  // In a child process, so the cap on address space is the child's alone (set with prlimit, from
  // util-linux, an essential package on Debian: always installed). The child uses the built
  // package (Node 20 cannot import the .ts sources); the test setup builds it first.
  const DIST = new URL('../packages/core/dist/index.js', import.meta.url).href;
  const CHILD = `
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
const { Glean } = await import(process.env.GLEAN_DIST);
const configPath = process.env.GLEAN_CONFIG;
const result = {};
const vmSizeKb = () => Number(/VmSize:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ code: error.code, name: error.name, message: String(error.message) }));
const glean = new Glean(configPath, { watch: false, logger: false, prewarm: false });
await glean.loadConfig();
const greet = await glean.reloadAndWatch('A');
result.before = await greet('a');
// 512 MiB of address space left: a 1024 MiB thread stack cannot be mapped (EAGAIN), a call still runs.
execFileSync('prlimit', ['--pid', String(process.pid), '--as=' + (vmSizeKb() + 512 * 1024) * 1024 + ':']);
writeFileSync(configPath, JSON.stringify([
  { id: 'A', file: 'greet.mjs', name: 'greet' },
  { id: 'B', file: 'greet.mjs', name: 'greet', resourceLimits: { stackSizeMb: 1024 } },
]));
result.reload = await settle(glean.reloadConfig());
result.after = await settle(greet('b'));
// Only B: any other new thread would need address space for its code range, and V8 aborts the process without it.
const onlyB = configPath.replace(/plugin.json$/, 'only-b.json');
writeFileSync(onlyB, JSON.stringify([{ id: 'B', file: 'greet.mjs', name: 'greet', resourceLimits: { stackSizeMb: 1024 } }]));
const fresh = new Glean(onlyB, { watch: false, logger: false, prewarm: false });
result.load = await settle(fresh.loadConfig());
execFileSync('prlimit', ['--pid', String(process.pid), '--as=unlimited:']);
await Promise.all([glean.close(), fresh.close()]);
console.log(JSON.stringify(result));
process.exit(0);
`;

  it('is GLEAN_LOAD_FAILED, at load and on a reload, and the running version keeps serving', async () => {
    const temp = await tempDir();
    await temp.write('greet.mjs', GREET);
    const configPath = await temp.write('plugin.json', [{ id: 'A', file: 'greet.mjs', name: 'greet' }]);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', CHILD],
        { env: { ...process.env, GLEAN_DIST: DIST, GLEAN_CONFIG: configPath }, encoding: 'utf8', timeout: 20_000 },
        (error, out, err) =>
          error === null
            ? resolve(out)
            : reject(new Error(`the child failed (${String(error.code ?? error.signal)}): ${err}`)),
      );
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<
      string,
      { code?: string; value?: unknown; message?: string } | string
    >;
    expect(result['before']).toBe('v1:a');
    expect(result['after']).toEqual({ value: 'v1:b' });
    const { reload, load } = result as Record<string, { code?: string; message?: string }>;
    expect([reload?.code, load?.code]).toEqual([ErrorCode.LOAD_FAILED, ErrorCode.LOAD_FAILED]);
    // The message names the plugin and why its thread could not start.
    expect(reload?.message).toMatch(/^plugin "B" \(.*greet\.mjs\): .*EAGAIN/);
  });
});
