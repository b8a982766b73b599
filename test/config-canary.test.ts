/**
 * A plugin entry's `canary` as the config states it: what it parses to (its options inherited from
 * the entry, its rollout's defaults), every refusal at its place, and the rollout's identity. Pure:
 * no threads, no files.
 */
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_CANARY_ANALYSIS,
  DEFAULT_PLUGIN_OPTIONS,
  parseConfig,
  rolloutKey,
  type CanaryRollout,
  type ConfigIssue,
  type GleanConfig,
} from '../packages/core/src/config.js';
import { ErrorCode, GleanError } from '../packages/core/src/errors.js';

const CONFIG = '/cfg/plugin.json';
const entry = { id: 'Foo', file: 'plugins/foo.js', name: 'FooHandler', version: '1.0' };
const canary = { file: 'plugins/foo-2.js', version: '2.0', weight: 5 };

/** `content` written as pretty JSON (as people write configs, so lines and columns mean something), parsed. */
function parse(content: unknown): GleanConfig {
  return parseConfig(JSON.stringify(content, null, 2), CONFIG);
}

/** The issues parseConfig reports for `content` as pretty JSON; fails the test if it parses. */
function issuesOf(content: unknown): readonly ConfigIssue[] {
  try {
    parse(content);
  } catch (error) {
    expect(error).toBeInstanceOf(GleanError);
    expect((error as GleanError).code).toBe(ErrorCode.CONFIG_INVALID);
    return (error as GleanError).issues ?? [];
  }
  throw new Error(`expected parseConfig to reject ${JSON.stringify(content)}`);
}

/** The message parseConfig throws for `content` as pretty JSON. */
function messageOf(content: unknown): string {
  try {
    parse(content);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected parseConfig to reject ${JSON.stringify(content)}`);
}

/** The messages of the issues of an array-form config of one entry (`owner`, default `entry`) with `ownCanary`. */
const canaryMessages = (ownCanary: unknown, owner: object = entry): string[] =>
  issuesOf([{ ...owner, canary: ownCanary }]).map((issue) => issue.message);

describe('a canary parses', () => {
  test("with the entry's options under its own, its name by default, and the analysis defaults", () => {
    const config = parse({
      defaults: { timeoutMs: 500, resourceLimits: { stackSizeMb: 4 }, env: { FROM: 'defaults' } },
      plugins: [
        {
          ...entry,
          threads: 8,
          concurrency: 4,
          env: { FROM: 'entry', ONLY_ENTRY: 'x' },
          resourceLimits: { codeRangeSizeMb: 16 },
          canary: { ...canary, threads: 2, env: { FROM: 'canary' }, resourceLimits: { maxOldGenerationSizeMb: 256 } },
        },
      ],
    });
    const [foo] = config.plugins;
    expect(foo?.options.threads).toBe(8);
    expect(foo?.canary).toStrictEqual({
      file: '/cfg/plugins/foo-2.js',
      fileAsWritten: 'plugins/foo-2.js',
      name: 'FooHandler',
      version: '2.0',
      options: {
        ...DEFAULT_PLUGIN_OPTIONS,
        threads: 2, // its own wins over the entry's 8
        timeoutMs: 500, // the defaults', through the entry
        concurrency: 4, // the entry's
        resourceLimits: { maxOldGenerationSizeMb: 256, stackSizeMb: 4, codeRangeSizeMb: 16 }, // key by key
        env: { FROM: 'canary' }, // whole: nothing of the entry's
      },
      rollout: {
        weight: 5,
        steps: undefined,
        stepMs: undefined,
        intervalMs: 10_000,
        minCalls: 100,
        maxErrorRate: 1,
        errorRateMargin: 1,
        maxP99Ms: undefined,
        p99Factor: 2,
        progressDeadlineMs: 600_000,
      },
    });
  });

  test("without options of its own it runs with the entry's effective options", () => {
    const [foo] = parse({
      defaults: { loadTimeoutMs: 2000, handover: 'overlap' },
      plugins: [{ ...entry, threads: 8, env: 'none', canary }],
    }).plugins;
    expect(foo?.canary?.options).toStrictEqual(foo?.options);
    expect(foo?.canary?.options).toMatchObject({ threads: 8, loadTimeoutMs: 2000, env: 'none' });
  });

  test("takes integrity from its own key or defaults, never from its entry's, which is of another file", () => {
    const sri = (n: number) => `sha384-${String(n).repeat(64)}`;
    const [own, inherited] = parse({
      plugins: [
        { ...entry, id: 'A', integrity: sri(1), canary: { ...canary, integrity: sri(2) } },
        { ...entry, id: 'B', integrity: sri(1), canary },
      ],
    }).plugins;
    expect(own?.canary?.options.integrity).toBe(sri(2));
    expect(inherited?.options.integrity).toBe(sri(1));
    expect(inherited?.canary?.options.integrity).toBeUndefined();
    const [fromDefaults] = parse({ defaults: { integrity: sri(3) }, plugins: [{ ...entry, canary }] }).plugins;
    expect(fromDefaults?.canary?.options.integrity).toBe(sri(3));
  });

  test('a stepped canary with every analysis key set keeps them all', () => {
    const [foo] = parse([
      {
        ...entry,
        canary: {
          file: '/opt/foo-2.js',
          name: 'FooHandlerV2',
          version: '2.0',
          steps: [1, 5, 25.5, 50, 100],
          stepMs: 60_000,
          intervalMs: 5000,
          minCalls: 20,
          maxErrorRate: 0.5,
          errorRateMargin: 0,
          maxP99Ms: 250.5,
          p99Factor: 1,
          progressDeadlineMs: 2_147_483_647,
        },
      },
    ]).plugins;
    expect(foo?.canary).toMatchObject({ file: '/opt/foo-2.js', name: 'FooHandlerV2', version: '2.0' });
    expect(foo?.canary?.rollout).toStrictEqual({
      weight: undefined,
      steps: [1, 5, 25.5, 50, 100],
      stepMs: 60_000,
      intervalMs: 5000,
      minCalls: 20,
      maxErrorRate: 0.5,
      errorRateMargin: 0,
      maxP99Ms: 250.5,
      p99Factor: 1,
      progressDeadlineMs: 2_147_483_647,
    });
  });

  test('the canary, its options, its rollout and its steps are frozen', () => {
    const [foo] = parse([{ ...entry, canary: { file: 'b.js', version: '2', steps: [1, 2], stepMs: 1 } }]).plugins;
    expect(Object.isFrozen(foo)).toBe(true);
    expect(Object.isFrozen(foo?.canary)).toBe(true);
    expect(Object.isFrozen(foo?.canary?.options)).toBe(true);
    expect(Object.isFrozen(foo?.canary?.rollout)).toBe(true);
    expect(Object.isFrozen(foo?.canary?.rollout.steps)).toBe(true);
  });

  test('an entry without a canary has canary undefined', () => {
    const [foo] = parse([entry]).plugins;
    expect(foo).toHaveProperty('canary', undefined);
  });

  test.each([0, 100, 99.99, 0.01, 12.5])('weight %d is accepted', (weight) => {
    expect(parse([{ ...entry, canary: { ...canary, weight } }]).plugins[0]?.canary?.rollout.weight).toBe(weight);
  });

  test("a version that differs from an entry's absent one is accepted; a drain-first entry's canary may overlap", () => {
    const { version: _, ...unversioned } = entry;
    const [plain, drainFirst] = parse([
      { ...unversioned, canary: { file: 'b.js', version: '1', weight: 1 } },
      { ...entry, id: 'Bar', handover: 'drain-first', canary: { ...canary, handover: 'overlap' } },
    ]).plugins;
    expect(plain?.canary?.version).toBe('1');
    expect(drainFirst?.options.handover).toBe('drain-first');
    expect(drainFirst?.canary?.options.handover).toBe('overlap');
  });

  test('the built-in analysis values are the documented ones', () => {
    expect(DEFAULT_CANARY_ANALYSIS).toStrictEqual({
      intervalMs: 10_000,
      minCalls: 100,
      maxErrorRate: 1,
      errorRateMargin: 1,
      maxP99Ms: undefined,
      p99Factor: 2,
      progressDeadlineMs: 600_000,
    });
    expect(Object.isFrozen(DEFAULT_CANARY_ANALYSIS)).toBe(true);
  });
});

describe('what no schema type says is refused at its place', () => {
  test('neither weight nor steps', () => {
    expect(issuesOf([{ ...entry, canary: { file: 'b.js', version: '2.0' } }])).toEqual([
      { code: 'missing-key', path: [0, 'canary'], message: 'a canary needs "weight" or "steps"', line: 7, column: 15 },
    ]);
  });

  test('both weight and steps', () => {
    expect(issuesOf([{ ...entry, canary: { ...canary, steps: [1, 5], stepMs: 1000 } }])).toEqual([
      {
        code: 'invalid-value',
        path: [0, 'canary', 'steps'],
        message: 'a canary takes "weight" or "steps", not both (it has weight 5)',
        line: 11,
        column: 16,
      },
    ]);
  });

  test('stepMs without steps, and steps without stepMs', () => {
    expect(issuesOf([{ ...entry, canary: { ...canary, stepMs: 1000 } }])).toEqual([
      {
        code: 'invalid-value',
        path: [0, 'canary', 'stepMs'],
        message: 'expected "stepMs" only with "steps", received 1000 without them',
        line: 11,
        column: 17,
      },
    ]);
    expect(issuesOf([{ ...entry, canary: { file: 'b.js', version: '2.0', steps: [1] } }])).toEqual([
      {
        code: 'missing-key',
        path: [0, 'canary', 'stepMs'],
        message: 'missing, expected an integer from 1 to 2147483647, the ms each step lasts (required with "steps")',
        line: 7,
        column: 15,
      },
    ]);
  });

  test("a version missing, or the entry's, is refused, saying what the version is for", () => {
    const { version: _, ...noVersion } = canary;
    expect(messageOf([{ ...entry, canary: noVersion }])).toMatchInlineSnapshot(`
      "config /cfg/plugin.json is invalid:
        [0].canary.version (line 7, column 15): missing, expected a version other than the entry's "1.0" (the version names the canary: its routing salt, its events, the per-call override)"
    `);
    expect(issuesOf([{ ...entry, canary: { ...canary, version: '1.0' } }])).toEqual([
      {
        code: 'invalid-value',
        path: [0, 'canary', 'version'],
        message:
          'expected a version other than the entry\'s "1.0", received "1.0" (the version names the canary: its routing salt, its events, the per-call override)',
        line: 9,
        column: 18,
      },
    ]);
  });

  test('an entry without a version has version "": a canary\'s must differ from that too', () => {
    const { version: _, ...unversioned } = entry;
    expect(canaryMessages({ ...canary, version: '' }, unversioned)).toEqual([
      `expected a version other than the entry's "", received "" (the version names the canary: its routing salt, its events, the per-call override)`,
    ]);
    expect(
      issuesOf([{ ...unversioned, canary: { file: 'b.js', weight: 5 } }]).map(({ code, path }) => ({ code, path })),
    ).toEqual([{ code: 'missing-key', path: [0, 'canary', 'version'] }]);
  });

  test("a drain-first handover, its own, the entry's or the defaults', is refused: a canary runs beside the stable", () => {
    expect(
      messageOf({
        defaults: { handover: 'drain-first' },
        plugins: [
          { ...entry, canary: { ...canary, handover: 'drain-first' } },
          { ...entry, id: 'Bar', handover: 'drain-first', canary },
          { ...entry, id: 'Baz', canary },
          { ...entry, id: 'Qux', handover: 'overlap', canary }, // the entry's overlap wins over the defaults'
        ],
      }),
    ).toMatchInlineSnapshot(`
      "config /cfg/plugin.json is invalid:
        plugins[0].canary.handover (line 15, column 21): expected "overlap" for a canary, received "drain-first" (a canary runs beside the stable version; "drain-first" lets only one run)
        plugins[1].canary (line 24, column 17): a canary cannot take handover "drain-first" from plugins[1].handover (a canary runs beside the stable version; "drain-first" lets only one run); give it "handover": "overlap"
        plugins[2].canary (line 35, column 17): a canary cannot take handover "drain-first" from defaults.handover (a canary runs beside the stable version; "drain-first" lets only one run); give it "handover": "overlap""
    `);
  });

  test("the checks report with the schema's issues, in document order, in the array form too", () => {
    const issues = issuesOf([
      { ...entry, canary: { file: 3, version: '1.0', threads: 0 } },
      { ...entry, id: 'Bar', canary: { ...canary, weight: 5, steps: [2] } },
    ]);
    expect(issues.map(({ code, path, message }) => ({ code, path, message }))).toEqual([
      { code: 'missing-key', path: [0, 'canary'], message: 'a canary needs "weight" or "steps"' },
      { code: 'invalid-value', path: [0, 'canary', 'file'], message: 'expected string, received number' },
      {
        code: 'invalid-value',
        path: [0, 'canary', 'version'],
        message: expect.stringContaining('expected a version other than the entry\'s "1.0", received "1.0"'),
      },
      {
        code: 'invalid-value',
        path: [0, 'canary', 'threads'],
        message: 'expected an integer from 1 to 256, received 0',
      },
      {
        code: 'invalid-value',
        path: [1, 'canary', 'steps'],
        message: 'a canary takes "weight" or "steps", not both (it has weight 5)',
      },
      {
        code: 'missing-key',
        path: [1, 'canary', 'stepMs'],
        message: expect.stringMatching(/^missing, expected an integer/),
      },
    ]);
  });
});

describe('the schema refuses values out of their range', () => {
  test.each([
    [
      'steps not ascending',
      { steps: [1, 5, 5, 3, 50] },
      [
        ['steps', 2, 'expected steps in strictly ascending order, received 5 after 5'],
        ['steps', 3, 'expected steps in strictly ascending order, received 3 after 5'],
      ],
    ],
    [
      'a step of 0',
      { steps: [0, 5] },
      [['steps', 0, 'expected a number above 0 and at most 100 with at most two decimals, received 0']],
    ],
    [
      'a step of 101',
      { steps: [5, 101] },
      [['steps', 1, 'expected a number above 0 and at most 100 with at most two decimals, received 101']],
    ],
    [
      'a step of three decimals',
      { steps: [1.005, 2] },
      [['steps', 0, 'expected a number above 0 and at most 100 with at most two decimals, received 1.005']],
    ],
    ['no steps', { steps: [] }, [['steps', 'expected at least one step, received []']]],
    ['steps not an array', { steps: 5 }, [['steps', 'expected an array of numbers, received number']]],
    [
      'a step not a number',
      { steps: ['5'] },
      [['steps', 0, 'expected a number above 0 and at most 100 with at most two decimals, received string']],
    ],
  ] as const)('%s', (_what, rollout, expected) => {
    const issues = issuesOf([{ ...entry, canary: { file: 'b.js', version: '2', stepMs: 1000, ...rollout } }]);
    expect(issues.map(({ path, message }) => [...path.slice(2), message])).toEqual(expected);
  });

  test.each([
    ['weight', 100.5, 'expected a number from 0 to 100 with at most two decimals, received 100.5'],
    ['weight', -1, 'expected a number from 0 to 100 with at most two decimals, received -1'],
    ['weight', 5.125, 'expected a number from 0 to 100 with at most two decimals, received 5.125'],
    ['weight', '5', 'expected a number from 0 to 100 with at most two decimals, received string'],
    ['intervalMs', 0, 'expected an integer from 1 to 2147483647, received 0'],
    ['intervalMs', 2 ** 31, 'expected an integer from 1 to 2147483647, received 2147483648'],
    ['minCalls', 0, 'expected a positive integer, received 0'],
    ['minCalls', 1.5, 'expected a positive integer, received 1.5'],
    ['maxErrorRate', 101, 'expected a number from 0 to 100, received 101'],
    ['errorRateMargin', -0.5, 'expected a number from 0 to 100, received -0.5'],
    ['maxP99Ms', 0, 'expected a positive number, received 0'],
    ['p99Factor', 0.9, 'expected a number of at least 1, received 0.9'],
    ['progressDeadlineMs', 2 ** 31, 'expected an integer from 1 to 2147483647, received 2147483648'],
    ['file', '', 'expected a non-empty string, received ""'],
    ['name', '', 'expected a non-empty string, received ""'],
    ['version', 2, 'expected string, received number (put the version in quotes)'],
    ['threads', 300, 'expected an integer from 1 to 256, received 300'],
  ])('%s %j', (key, value, message) => {
    expect(issuesOf([{ ...entry, canary: { ...canary, [key]: value } }])).toEqual([
      {
        code: 'invalid-value',
        path: [0, 'canary', key],
        message,
        line: expect.any(Number),
        column: expect.any(Number),
      },
    ]);
  });

  test('stepMs with steps: an integer from 1, a timer value', () => {
    expect(canaryMessages({ file: 'b.js', version: '2', steps: [1], stepMs: 0.5 })).toEqual([
      'expected an integer from 1 to 2147483647, received 0.5',
    ]);
    expect(canaryMessages({ file: 'b.js', version: '2', steps: [1], stepMs: 2 ** 31 })).toEqual([
      'expected an integer from 1 to 2147483647, received 2147483648',
    ]);
  });

  test('a canary that is not an object', () => {
    expect(canaryMessages('plugins/foo-2.js')).toEqual(['expected object, received string']);
  });
});

describe('unknown keys in a canary', () => {
  test('get the hints entry keys get, in the object form and under its resourceLimits', () => {
    expect(
      issuesOf({
        plugins: [
          { ...entry, canary: { ...canary, wieght: 5, Threads: 2, resourceLimits: { stackSize: 4 }, canary: {} } },
        ],
      }),
    ).toEqual([
      {
        code: 'unknown-key',
        path: ['plugins', 0, 'canary'],
        message: 'unknown key "wieght"; did you mean "weight"?',
        line: 12,
        column: 9,
      },
      {
        code: 'unknown-key',
        path: ['plugins', 0, 'canary'],
        message: 'unknown key "Threads"; did you mean "threads"?',
        line: 13,
        column: 9,
      },
      { code: 'unknown-key', path: ['plugins', 0, 'canary'], message: 'unknown key "canary"', line: 17, column: 9 },
      {
        code: 'unknown-key',
        path: ['plugins', 0, 'canary', 'resourceLimits'],
        message: 'unknown key "stackSize"; did you mean "stackSizeMb"?',
        line: 15,
        column: 11,
      },
    ]);
  });

  test('a misspelt analysis key is hinted in the array form', () => {
    expect(canaryMessages({ ...canary, intervalMS: 5000, minCall: 10, p99factor: 3 })).toEqual([
      'unknown key "intervalMS"; did you mean "intervalMs"?',
      'unknown key "minCall"; did you mean "minCalls"?',
      'unknown key "p99factor"; did you mean "p99Factor"?',
    ]);
  });

  test('a canary in defaults is an unknown key there', () => {
    expect(issuesOf({ defaults: { canary }, plugins: [entry] })).toEqual([
      { code: 'unknown-key', path: ['defaults'], message: 'unknown key "canary"', line: 3, column: 5 },
    ]);
  });
});

describe('rolloutKey', () => {
  const rollout = (overrides: Partial<CanaryRollout> = {}): CanaryRollout => ({
    ...DEFAULT_CANARY_ANALYSIS,
    weight: 5,
    steps: undefined,
    stepMs: undefined,
    ...overrides,
  });

  test('is equal for equal rollouts, whether written out or defaulted', () => {
    const [written, defaulted] = parse([
      { ...entry, canary: { ...canary, intervalMs: 10_000, minCalls: 100, p99Factor: 2 } },
      { ...entry, id: 'Bar', canary },
    ]).plugins.map((plugin) => plugin.canary?.rollout);
    expect(rolloutKey(written!)).toBe(rolloutKey(defaulted!));
    expect(rolloutKey(rollout({ steps: [1, 5], weight: undefined, stepMs: 9 }))).toBe(
      rolloutKey(rollout({ steps: [1, 5], weight: undefined, stepMs: 9 })),
    );
    expect(rolloutKey(rollout({ weight: -0 }))).toBe(rolloutKey(rollout({ weight: 0 })));
  });

  test.each<[string, Partial<CanaryRollout>]>([
    ['weight', { weight: 6 }],
    ['steps for a weight', { weight: undefined, steps: [5], stepMs: 1000 }],
    ['stepMs', { weight: undefined, steps: [5], stepMs: 1001 }],
    ['intervalMs', { intervalMs: 1 }],
    ['minCalls', { minCalls: 1 }],
    ['maxErrorRate', { maxErrorRate: 2 }],
    ['errorRateMargin', { errorRateMargin: 0 }],
    ['maxP99Ms', { maxP99Ms: 100 }],
    ['p99Factor', { p99Factor: 3 }],
    ['progressDeadlineMs', { progressDeadlineMs: 1 }],
  ])('differs on %s', (_what, change) => {
    expect(rolloutKey(rollout(change))).not.toBe(rolloutKey(rollout()));
  });

  test('steps differ by their numbers, not by how they would join', () => {
    const stepped = (steps: number[]) => rollout({ weight: undefined, steps, stepMs: 1000 });
    expect(rolloutKey(stepped([1, 5]))).not.toBe(rolloutKey(stepped([15])));
    expect(rolloutKey(stepped([1, 5]))).not.toBe(rolloutKey(stepped([1.5])));
    expect(rolloutKey(stepped([1, 5, 25]))).not.toBe(rolloutKey(stepped([1, 5])));
  });
});
