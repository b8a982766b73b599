import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import {
  DEFAULT_PLUGIN_OPTIONS,
  parseConfig,
  pluginOptionsEqual,
  readConfig,
  type PluginOptions,
} from '../packages/core/src/config.js';
import { ErrorCode, GleanError } from '../packages/core/src/errors.js';
import { tempDir } from './helpers/index.js';
import { rejectionOf } from './helpers/errors.js';

let dir: string;

beforeEach(async () => {
  dir = (await tempDir()).dir; // removed after the test
});

/** Writes `content` (text as is, anything else as pretty JSON) to `name` under the temp folder; returns its path. */
async function write(name: string, content: unknown): Promise<string> {
  const file = join(dir, name);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** The GleanError readConfig rejects with for `file`. */
function readError(file: string): Promise<GleanError> {
  return rejectionOf(readConfig(file), GleanError);
}

/** The GleanError readConfig rejects with for a plugin.json holding `content`. */
async function rejection(content: unknown): Promise<GleanError> {
  return readError(await write('plugin.json', content));
}

/** The message with the temp folder replaced, so snapshots are stable. */
const stable = (error: Error): string => error.message.replaceAll(dir, '<dir>');

const entry = { id: 'Foo', file: 'plugins/foo.js', name: 'FooHandler' };

describe('accepted shapes', () => {
  test("glean's array form is accepted as is, with built-in defaults", async () => {
    const file = await write('plugin.json', [entry, { id: 'Bar', file: 'bar.mjs', name: 'default', version: '2.0' }]);
    const config = await readConfig(file);
    expect(config.path).toBe(file);
    expect(config.dir).toBe(dir);
    expect(config.plugins).toEqual([
      {
        id: 'Foo',
        file: join(dir, 'plugins/foo.js'),
        fileAsWritten: 'plugins/foo.js',
        name: 'FooHandler',
        version: '',
        options: DEFAULT_PLUGIN_OPTIONS,
      },
      {
        id: 'Bar',
        file: join(dir, 'bar.mjs'),
        fileAsWritten: 'bar.mjs',
        name: 'default',
        version: '2.0',
        options: DEFAULT_PLUGIN_OPTIONS,
      },
    ]);
    expect(DEFAULT_PLUGIN_OPTIONS).toEqual({
      threads: 1,
      timeoutMs: undefined,
      loadTimeoutMs: 10_000,
      drainTimeoutMs: 30_000,
      disposeTimeoutMs: 5000,
      handover: 'overlap',
      maxQueue: Infinity,
      concurrency: Infinity,
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
      integrity: undefined,
      env: 'inherit',
    });
  });

  test("every version's heap is capped at 1 GiB unless the config sets its own maxOldGenerationSizeMb", async () => {
    const file = await write('plugin.json', [
      { ...entry, resourceLimits: { stackSizeMb: 8 } },
      { id: 'Big', file: 'big.mjs', name: 'Big', resourceLimits: { maxOldGenerationSizeMb: 4096 } },
    ]);
    const [foo, big] = (await readConfig(file)).plugins;
    expect(foo?.options.resourceLimits).toEqual({ maxOldGenerationSizeMb: 1024, stackSizeMb: 8 });
    expect(big?.options.resourceLimits).toEqual({ maxOldGenerationSizeMb: 4096 });
  });

  test('object form: defaults apply, entries override them, resourceLimits merge key by key', async () => {
    const file = await write('plugin.json', {
      defaults: {
        threads: 2,
        timeoutMs: 500,
        maxQueue: 0,
        resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 },
      },
      plugins: [
        { ...entry, threads: 4, concurrency: 8, resourceLimits: { maxOldGenerationSizeMb: 128, codeRangeSizeMb: 16 } },
        { id: 'Bar', file: 'bar.js', name: 'Bar', drainTimeoutMs: 0 },
      ],
    });
    const [foo, bar] = (await readConfig(file)).plugins;
    expect(foo?.options).toEqual({
      ...DEFAULT_PLUGIN_OPTIONS,
      threads: 4,
      timeoutMs: 500,
      maxQueue: 0,
      concurrency: 8,
      resourceLimits: { maxOldGenerationSizeMb: 128, stackSizeMb: 4, codeRangeSizeMb: 16 },
    });
    expect(bar?.options).toEqual({
      ...DEFAULT_PLUGIN_OPTIONS,
      threads: 2,
      timeoutMs: 500,
      maxQueue: 0,
      drainTimeoutMs: 0,
      resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 },
    });
  });

  test('object form without defaults, and an empty plugin list, are accepted', () => {
    expect(
      parseConfig('{"plugins": [{"id": "a", "file": "a.js", "name": "a"}]}', '/cfg/plugin.json').plugins[0]?.options,
    ).toEqual(DEFAULT_PLUGIN_OPTIONS);
    expect(parseConfig('{"plugins": []}', '/cfg/plugin.json').plugins).toEqual([]);
    expect(parseConfig('[]', '/cfg/plugin.json').plugins).toEqual([]);
  });

  test('a leading byte-order mark is ignored', () => {
    expect(parseConfig(`\uFEFF${JSON.stringify([entry])}`, '/cfg/plugin.json').plugins[0]?.id).toBe('Foo');
  });

  test('the result is frozen', () => {
    const config = parseConfig(JSON.stringify([entry]), '/cfg/plugin.json');
    expect(Object.isFrozen(config.plugins)).toBe(true);
    expect(Object.isFrozen(config.plugins[0]?.options)).toBe(true);
  });
});

describe('plugin file paths', () => {
  test("relative files resolve against the config's folder; absolute ones stay", async () => {
    const file = await write('conf/plugin.json', [
      entry,
      { id: 'Abs', file: '/opt/plugins/abs.js', name: 'x' },
      { id: 'Up', file: '../up.js', name: 'x' },
    ]);
    const files = (await readConfig(file)).plugins.map((plugin) => plugin.file);
    expect(files).toEqual([join(dir, 'conf/plugins/foo.js'), '/opt/plugins/abs.js', join(dir, 'up.js')]);
  });

  test('a relative config path is resolved against the working directory', () => {
    const config = parseConfig(JSON.stringify([entry]), 'conf/plugin.json');
    expect(config.path).toBe(resolve('conf/plugin.json'));
    expect(config.plugins[0]?.file).toBe(resolve('conf/plugins/foo.js'));
  });

  test("through a symlinked plugin.json (a ConfigMap's layout) files resolve against the link's folder", async () => {
    await write('configmap/..2024_01_01/plugin.json', [entry]);
    await symlink('..2024_01_01', join(dir, 'configmap/..data'));
    await mkdir(join(dir, 'app'));
    const link = join(dir, 'app/plugin.json');
    await symlink(join(dir, 'configmap/..data/plugin.json'), link);

    const config = await readConfig(link);
    expect(config.path).toBe(link);
    expect(config.dir).toBe(join(dir, 'app'));
    expect(config.plugins[0]?.file).toBe(join(dir, 'app/plugins/foo.js'));
  });
});

describe('problems are listed at their place', () => {
  test('array form: every problem at once, in document order, with issues as data', async () => {
    const error = await rejection([
      { id: 'Foo', file: 1, name: 'a' },
      { id: '', name: 'b', threads: 0 },
      { id: 'Foo', file: 'c.js', name: 'c', version: 1.0 },
    ]);
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.issues).toEqual([
      { code: 'invalid-value', path: [0, 'file'], message: 'expected string, received number', line: 4, column: 13 },
      {
        code: 'invalid-value',
        path: [1, 'id'],
        message: 'expected a non-empty string, received ""',
        line: 8,
        column: 11,
      },
      {
        code: 'invalid-value',
        path: [1, 'threads'],
        message: 'expected an integer from 1 to 256, received 0',
        line: 10,
        column: 16,
      },
      { code: 'missing-key', path: [1, 'file'], message: 'missing, expected string', line: 7, column: 3 },
      { code: 'duplicate-id', path: [2, 'id'], message: 'duplicate id "Foo" (also at [0])', line: 13, column: 11 },
      {
        code: 'invalid-value',
        path: [2, 'version'],
        message: 'expected string, received number (put the version in quotes)',
        line: 16,
        column: 16,
      },
    ]);
    expect(stable(error)).toMatchInlineSnapshot(`
      "config <dir>/plugin.json is invalid:
        [0].file (line 4, column 13): expected string, received number
        [1].id (line 8, column 11): expected a non-empty string, received ""
        [1].threads (line 10, column 16): expected an integer from 1 to 256, received 0
        [1].file (line 7, column 3): missing, expected string
        [2].id (line 13, column 11): duplicate id "Foo" (also at [0])
        [2].version (line 16, column 16): expected string, received number (put the version in quotes)"
    `);
  });

  test('object form: paths start at plugins and defaults', async () => {
    const error = await rejection({
      defaults: { threads: 'many', resourceLimits: { stackSizeMb: 0 } },
      plugins: [
        entry,
        { id: 'Bar', file: 2, name: 'Bar' },
        { id: 'Foo', file: 'x.js', name: 'x', timeoutMs: -5 },
        'oops',
      ],
    });
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(stable(error)).toMatchInlineSnapshot(`
      "config <dir>/plugin.json is invalid:
        defaults.threads (line 3, column 16): expected an integer from 1 to 256, received string
        defaults.resourceLimits.stackSizeMb (line 5, column 22): expected a number from 1 to 1024, received 0
        plugins[1].file (line 16, column 15): expected string, received number
        plugins[2].id (line 20, column 13): duplicate id "Foo" (also at plugins[0])
        plugins[2].timeoutMs (line 23, column 20): expected an integer from 1 to 2147483647, received -5
        plugins[3] (line 25, column 5): expected object, received string"
    `);
    expect(error.issues?.map((issue) => issue.path)).toEqual([
      ['defaults', 'threads'],
      ['defaults', 'resourceLimits', 'stackSizeMb'],
      ['plugins', 1, 'file'],
      ['plugins', 2, 'id'],
      ['plugins', 2, 'timeoutMs'],
      ['plugins', 3],
    ]);
  });

  test('object form: missing or mistyped plugins', () => {
    const issues = (text: string) => {
      try {
        parseConfig(text, '/cfg/plugin.json');
      } catch (error) {
        return (error as GleanError).issues;
      }
      throw new Error('expected parseConfig to throw');
    };
    // A missing key is placed at the object that lacks it.
    expect(issues('{}')).toEqual([
      { code: 'missing-key', path: ['plugins'], message: 'missing, expected array', line: 1, column: 1 },
    ]);
    expect(issues('{"plugins": {}}')).toEqual([
      { code: 'invalid-value', path: ['plugins'], message: 'expected array, received object', line: 1, column: 13 },
    ]);
  });

  test('unknown keys are problems, with a hint when they are a near miss', async () => {
    const error = await rejection({
      defualts: {},
      plugins: [{ ...entry, thread: 2, TimeoutMs: 5, colour: 'red', resourceLimits: { stackSize: 4 } }],
    });
    expect(error.issues).toEqual([
      {
        code: 'unknown-key',
        path: [],
        message: 'unknown key "defualts"; did you mean "defaults"?',
        line: 2,
        column: 3,
      },
      {
        code: 'unknown-key',
        path: ['plugins', 0],
        message: 'unknown key "thread"; did you mean "threads"?',
        line: 8,
        column: 7,
      },
      {
        code: 'unknown-key',
        path: ['plugins', 0],
        message: 'unknown key "TimeoutMs"; did you mean "timeoutMs"?',
        line: 9,
        column: 7,
      },
      { code: 'unknown-key', path: ['plugins', 0], message: 'unknown key "colour"', line: 10, column: 7 },
      {
        code: 'unknown-key',
        path: ['plugins', 0, 'resourceLimits'],
        message: 'unknown key "stackSize"; did you mean "stackSizeMb"?',
        line: 12,
        column: 9,
      },
    ]);
  });

  test('duplicate ids are reported at the later entry, pointing at the first', async () => {
    const error = await rejection({ plugins: [entry, { ...entry, id: 'Bar' }, entry, entry] });
    expect(error.issues).toEqual([
      {
        code: 'duplicate-id',
        path: ['plugins', 2, 'id'],
        message: 'duplicate id "Foo" (also at plugins[0])',
        line: 14,
        column: 13,
      },
      {
        code: 'duplicate-id',
        path: ['plugins', 3, 'id'],
        message: 'duplicate id "Foo" (also at plugins[0])',
        line: 19,
        column: 13,
      },
    ]);
  });

  test.each([
    [0, 'expected an integer from 1 to 256, received 0'],
    [-1, 'expected an integer from 1 to 256, received -1'],
    [1.5, 'expected an integer from 1 to 256, received 1.5'],
    [100000, 'expected an integer from 1 to 256, received 100000'],
    [1e300, 'expected an integer from 1 to 256, received 1e+300'],
    ['2', 'expected an integer from 1 to 256, received string'],
  ])('threads %j is rejected with one clear message', async (threads, message) => {
    const error = await rejection([{ ...entry, threads }]);
    expect(error.issues).toEqual([{ code: 'invalid-value', path: [0, 'threads'], message, line: 6, column: 16 }]);
  });

  test('timeouts beyond what setTimeout can wait are rejected', () => {
    expect(() => parseConfig(JSON.stringify([{ ...entry, loadTimeoutMs: 2 ** 31 }]), '/cfg/plugin.json')).toThrow(
      '[0].loadTimeoutMs (line 1, column 74): expected an integer from 1 to 2147483647, received 2147483648',
    );
  });
});

describe('not a config document', () => {
  test.each(['', '  \n\t\n'])('an empty file (%j) is one problem', async (text) => {
    const error = await rejection(text);
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.issues).toEqual([{ code: 'empty-file', path: [], message: 'the file is empty' }]);
    expect(stable(error)).toBe('config <dir>/plugin.json is invalid:\n  (root): the file is empty');
  });

  // Located and worded by glean's own reading of the text, the same on every Node version (V8's messages differ).
  test('invalid JSON is located by line and column (a trailing comma)', async () => {
    const error = await rejection('[\n  {"id": "a", "file": "a.js", "name": "x"},\n]\n');
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error.issues).toEqual([
      { code: 'json-syntax', path: [], message: "invalid JSON: unexpected token ']'", line: 3, column: 1 },
    ]);
    expect(stable(error)).toMatchInlineSnapshot(`
      "config <dir>/plugin.json is invalid:
        line 3, column 1: invalid JSON: unexpected token ']'"
    `);
  });

  test('invalid JSON is located by line and column (a missing comma)', async () => {
    const error = await rejection('{\n  "plugins": [\n    {"id": "a" "file": "a.js"}\n  ]\n}\n');
    expect(stable(error)).toBe(
      "config <dir>/plugin.json is invalid:\n  line 3, column 16: invalid JSON: expected ',' or '}' after property value",
    );
  });

  test('an unfinished literal is located at the character after it', () => {
    expect(() => parseConfig('{\n  "plugins": [\n    {"id": "a", "file": tru}\n  ]\n}', '/cfg/plugin.json')).toThrow(
      "line 3, column 28: invalid JSON: unexpected token '}'",
    );
  });

  test('a document truncated mid-string is located at its end', async () => {
    const error = await rejection('[\n  {"id": "Fo');
    expect(error.issues).toEqual([
      { code: 'json-syntax', path: [], message: 'invalid JSON: unterminated string', line: 2, column: 13 },
    ]);
  });

  test('a document truncated between tokens is located after its last character', async () => {
    const error = await rejection('{\n  "plugins": [\n    {"id": "a"},\n\n');
    expect(error.issues).toEqual([
      { code: 'json-syntax', path: [], message: 'invalid JSON: unexpected end of JSON input', line: 3, column: 17 },
    ]);
  });

  test.each([
    ['"plugins"', 'string'],
    ['42', 'number'],
    ['null', 'null'],
  ])('a JSON root that is %s is one clear problem', async (text, type) => {
    const error = await rejection(text);
    expect(error.issues).toEqual([
      {
        code: 'invalid-value',
        path: [],
        message: `expected an array of plugins or an object with "plugins", received ${type}`,
        line: 1,
        column: 1,
      },
    ]);
  });
});

describe('unreadable config', () => {
  test('a missing file', async () => {
    const error = await readError(join(dir, 'nope.json'));
    expect(error.code).toBe(ErrorCode.CONFIG_UNREADABLE);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(stable(error)).toMatchInlineSnapshot(
      `"config <dir>/nope.json is unreadable: ENOENT (no such file or directory)"`,
    );
  });

  test('a directory', async () => {
    const error = await readError(dir);
    expect(error.code).toBe(ErrorCode.CONFIG_UNREADABLE);
    expect(stable(error)).toBe('config <dir> is unreadable: EISDIR (illegal operation on a directory)');
  });

  test('a symlink loop', async () => {
    await symlink(join(dir, 'b.json'), join(dir, 'a.json'));
    await symlink(join(dir, 'a.json'), join(dir, 'b.json'));
    const error = await readError(join(dir, 'a.json'));
    expect(error.code).toBe(ErrorCode.CONFIG_UNREADABLE);
    expect(error.message).toContain(`config ${join(dir, 'a.json')} is unreadable: ELOOP`);
  });

  // FIFOs, /dev/zero and the size limit, with a running Glean: special-files.test.ts.
  test('a character device through a symlink (/dev/null): refused for what it is, not read as an empty file', async () => {
    await symlink('/dev/null', join(dir, 'plugin.json'));
    const error = await readError(join(dir, 'plugin.json'));
    expect(error.code).toBe(ErrorCode.CONFIG_UNREADABLE);
    expect(stable(error)).toMatchInlineSnapshot(
      `"config <dir>/plugin.json is unreadable: a character device, not a regular file"`,
    );
  });
});

describe('integrity and env', () => {
  const SHA384 = 'sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO';
  const SHA256 = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

  test("are accepted per plugin and in defaults; an entry's value replaces the defaults' whole", () => {
    const config = parseConfig(
      JSON.stringify({
        defaults: { integrity: SHA384, env: { NODE_ENV: 'production', REGION: 'eu' } },
        plugins: [
          { ...entry, integrity: `${SHA256} ${SHA384}`, env: { TOKEN: 'x' } },
          { id: 'Bar', file: 'bar.js', name: 'Bar', env: 'none' },
          { id: 'Baz', file: 'baz.js', name: 'Baz' },
        ],
      }),
      '/cfg/plugin.json',
    );
    expect(config.plugins.map(({ options: { integrity, env } }) => ({ integrity, env }))).toEqual([
      { integrity: `${SHA256} ${SHA384}`, env: { TOKEN: 'x' } },
      { integrity: SHA384, env: 'none' },
      { integrity: SHA384, env: { NODE_ENV: 'production', REGION: 'eu' } },
    ]);
    expect(Object.isFrozen(config.plugins[0]?.options.env)).toBe(true);
  });

  test('env "inherit" is the default and can be written out', () => {
    const [plain, written] = parseConfig(
      JSON.stringify([entry, { ...entry, id: 'Bar', env: 'inherit' }]),
      '/cfg/plugin.json',
    ).plugins;
    expect(plain?.options.env).toBe('inherit');
    expect(written?.options).toEqual(plain?.options);
  });

  test('an empty env object is accepted: the plugin sees no variables, as with "none"', () => {
    expect(parseConfig(JSON.stringify([{ ...entry, env: {} }]), '/cfg/plugin.json').plugins[0]?.options.env).toEqual(
      {},
    );
  });

  test('invalid values are listed at their place', async () => {
    const error = await rejection({
      defaults: { integrity: 'md5-1B2M2Y8AsgTpgAmY7PhCfg==', env: 'inhert' },
      plugins: [
        { ...entry, integrity: 42, env: { PORT: 8080, 'A=B': 'x', '': 'y', OK: 'fine', NUL: 'a\u0000b' } },
        { id: 'Bar', file: 'bar.js', name: 'Bar', integrity: 'sha384-abc', env: ['A=1'] },
        { id: 'Baz', file: 'baz.js', name: 'Baz', integrity: `${SHA384}?ct=text/javascript`, env: null },
        { id: 'Qux', file: 'qux.js', name: 'Qux', integrity: '', env: 3 },
      ],
    });
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(stable(error)).toMatchInlineSnapshot(`
      "config <dir>/plugin.json is invalid:
        defaults.integrity (line 3, column 18): unsupported algorithm "md5"; use sha256, sha384 or sha512
        defaults.env (line 4, column 12): expected "inherit", "none" or an object of variables, received "inhert"
        plugins[0].integrity (line 11, column 20): expected string, received number
        plugins[0].env.PORT (line 13, column 17): expected string, received number (put the value in quotes)
        plugins[0].env["A=B"] (line 14, column 9): a variable name cannot contain "=" or NUL
        plugins[0].env[""] (line 15, column 9): a variable name cannot be empty
        plugins[0].env.NUL (line 17, column 16): a value cannot contain NUL
        plugins[1].integrity (line 24, column 20): a sha384 digest is 64 base64 characters (48 bytes), received 3
        plugins[1].env (line 25, column 14): expected "inherit", "none" or an object of variables, received array
        plugins[2].integrity (line 33, column 20): SRI options ("?…") are not supported
        plugins[2].env (line 34, column 14): expected "inherit", "none" or an object of variables, received null
        plugins[3].integrity (line 40, column 20): expected at least one "<algorithm>-<base64 digest>", received an empty string
        plugins[3].env (line 41, column 14): expected "inherit", "none" or an object of variables, received number"
    `);
    expect(error.issues?.[3]?.path).toEqual(['plugins', 0, 'env', 'PORT']);
  });

  test('near misses of the new keys get a hint', async () => {
    const error = await rejection([{ ...entry, integrty: SHA384, Env: 'none' }]);
    expect(error.issues).toEqual([
      {
        code: 'unknown-key',
        path: [0],
        message: 'unknown key "integrty"; did you mean "integrity"?',
        line: 6,
        column: 5,
      },
      { code: 'unknown-key', path: [0], message: 'unknown key "Env"; did you mean "env"?', line: 7, column: 5 },
    ]);
  });
});

describe('pluginOptionsEqual', () => {
  const options = (overrides: Partial<PluginOptions> = {}): PluginOptions => ({
    ...DEFAULT_PLUGIN_OPTIONS,
    ...overrides,
  });

  test('compares deeply, not by identity', () => {
    expect(
      pluginOptionsEqual(
        options({ resourceLimits: { stackSizeMb: 4 } }),
        options({ resourceLimits: { stackSizeMb: 4 } }),
      ),
    ).toBe(true);
    expect(pluginOptionsEqual(options(), options({ threads: 2 }))).toBe(false);
    expect(pluginOptionsEqual(options(), options({ timeoutMs: 1000 }))).toBe(false);
    expect(pluginOptionsEqual(options(), options({ maxQueue: Number.MAX_SAFE_INTEGER }))).toBe(false);
    expect(
      pluginOptionsEqual(
        options({ resourceLimits: { stackSizeMb: 4 } }),
        options({ resourceLimits: { stackSizeMb: 8 } }),
      ),
    ).toBe(false);
  });

  test('integrity and env make a different version; env compares by content, in any key order', () => {
    const sha = 'sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO';
    expect(pluginOptionsEqual(options({ integrity: sha }), options({ integrity: sha }))).toBe(true);
    expect(pluginOptionsEqual(options(), options({ integrity: sha }))).toBe(false);
    expect(pluginOptionsEqual(options({ env: { A: '1', B: '2' } }), options({ env: { B: '2', A: '1' } }))).toBe(true);
    expect(pluginOptionsEqual(options(), options({ env: 'none' }))).toBe(false);
    expect(pluginOptionsEqual(options({ env: 'none' }), options({ env: {} }))).toBe(false);
    expect(pluginOptionsEqual(options({ env: { A: '1' } }), options({ env: { A: '2' } }))).toBe(false);
    expect(pluginOptionsEqual(options({ env: { A: '1' } }), options({ env: { A: '1', B: '' } }))).toBe(false);
  });

  test('an empty resourceLimits equals none', () => {
    expect(pluginOptionsEqual(options({ resourceLimits: {} }), options({ resourceLimits: undefined }))).toBe(true);
  });
});
