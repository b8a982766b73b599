/**
 * Bad input while plugins serve: a config that cannot be read or is not valid, and plugin files
 * that are not what their entry says. Each gives a coded error naming the file (and the place in
 * it), emitted as `error` and returned by reloadConfig(); handles already serving keep answering
 * from the same workers, status() is unchanged, and no thread is left behind.
 *
 * test/config.test.ts pins how readConfig words each config problem; this file shows what a running
 * Glean does with them.
 */
import { mkdir, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type Glean, type GleanError, type Handle } from '@glean/core';
import { nextEvent, tempDir, threadCount, threadsBackTo, type Entry, type TempDir } from './helpers/index.js';
import { rejectionOf } from './helpers/errors.js';
import { sharedGlean, startGlean } from './helpers/glean.js';

const GREET = (tag: string): string => `
import { threadId } from 'node:worker_threads';
export function Greet(name) { return '${tag}:' + name; }
export function whichThread() { return threadId; }
`;

describe('a bad config while plugins serve changes nothing', () => {
  // One Glean for every case: each breaks the config, checks, and puts the good one back.
  const good: Entry[] = [
    { id: 'G', file: 'greet.mjs', name: 'Greet' },
    { id: 'T', file: 'greet.mjs', name: 'whichThread' },
  ];
  let dir = '';
  let configPath = '';
  let glean: Glean;
  let greet: Handle<(name: string) => string>;
  let thread = 0;
  let serving = 0;

  const suite = sharedGlean({ files: { 'greet.mjs': GREET('v1') }, config: good });
  beforeAll(async () => {
    ({ glean, configPath } = suite);
    dir = suite.temp.dir;
    greet = await glean.reloadAndWatch('G');
    thread = await (await glean.reloadAndWatch<() => number>('T'))();
    serving = threadCount();
  });

  /** Puts the good config file back, whatever the case made of its path. */
  async function restore(): Promise<void> {
    await rm(configPath, { force: true }).catch(() => rmdir(configPath));
    await writeFile(configPath, JSON.stringify(good));
  }

  /** Breaks the config with `breakIt`, checks reloadConfig's rejection and that nothing changed, restores it; returns the error. */
  async function badReload(breakIt: () => Promise<unknown>, code: string): Promise<GleanError> {
    const before = glean.status();
    const emitted = nextEvent<GleanError>(glean, 'error');
    try {
      await breakIt();
      const error = await rejectionOf(glean.reloadConfig());
      expect(error.code).toBe(code);
      expect(error.message).toContain(`config ${configPath} is`);
      // The same error is emitted; for an empty file, by a second read that looked again (a fresh object).
      const reported = await emitted;
      expect({ code: reported.code, message: reported.message, issues: reported.issues }).toEqual({
        code: error.code,
        message: error.message,
        issues: error.issues,
      });
      expect(glean.status()).toEqual(before);
      expect(await greet('x')).toBe('v1:x');
      expect(threadCount()).toBe(serving);
      return error;
    } finally {
      await restore();
      await glean.reloadConfig();
      expect(glean.status()['T']!.threads.map((t) => t.threadId)).toEqual([thread]);
    }
  }

  const write = (text: string) => () => writeFile(configPath, text);
  const json = (value: unknown) => write(JSON.stringify(value));

  it.each([
    [
      'not JSON',
      write('plugins: [greet.mjs]\n'),
      [{ code: 'json-syntax', path: [], message: "invalid JSON: unexpected token 'p'" }],
    ],
    ['empty', write(''), [{ code: 'empty-file', path: [], message: 'the file is empty' }]],
    [
      'a wrong type',
      json([{ ...good[0], threads: '2' }]),
      [{ code: 'invalid-value', path: [0, 'threads'], message: 'expected an integer from 1 to 256, received string' }],
    ],
    [
      'an unknown key, a near miss',
      json([{ ...good[0], timeoutMS: 100 }]),
      [{ code: 'unknown-key', path: [0], message: 'unknown key "timeoutMS"; did you mean "timeoutMs"?' }],
    ],
    [
      'a duplicate id',
      json([good[0], good[0]]),
      [{ code: 'duplicate-id', path: [1, 'id'], message: 'duplicate id "G" (also at [0])' }],
    ],
    [
      'an empty id',
      json([{ ...good[0], id: '' }]),
      [{ code: 'invalid-value', path: [0, 'id'], message: 'expected a non-empty string, received ""' }],
    ],
    [
      'threads 0',
      json([{ ...good[0], threads: 0 }]),
      [{ code: 'invalid-value', path: [0, 'threads'], message: 'expected an integer from 1 to 256, received 0' }],
    ],
    [
      'threads negative',
      json([{ ...good[0], threads: -2 }]),
      [{ code: 'invalid-value', path: [0, 'threads'], message: 'expected an integer from 1 to 256, received -2' }],
    ],
    [
      'threads not an integer',
      json([{ ...good[0], threads: 2.5 }]),
      [{ code: 'invalid-value', path: [0, 'threads'], message: 'expected an integer from 1 to 256, received 2.5' }],
    ],
    [
      'threads absurdly large',
      json({ defaults: { threads: 1_000_000 }, plugins: good }),
      [
        {
          code: 'invalid-value',
          path: ['defaults', 'threads'],
          message: 'expected an integer from 1 to 256, received 1000000',
        },
      ],
    ],
  ])('%s: GLEAN_CONFIG_INVALID listing the problem at its place', async (_what, breakIt, issues) => {
    const error = await badReload(breakIt, ErrorCode.CONFIG_INVALID);
    // Lines and columns are pinned in config.test.ts; every issue but an empty file's has them.
    expect(error.issues?.map(({ line, column, ...issue }) => issue)).toEqual(issues);
    expect(error.issues?.every((issue) => (issue.line !== undefined) === (issue.code !== 'empty-file'))).toBe(true);
    expect(error.message.startsWith(`config ${configPath} is invalid:\n`)).toBe(true);
    for (const issue of issues) expect(error.message).toContain(issue.message);
  });

  it.each([
    ['a missing file', () => rm(configPath), 'ENOENT'],
    ['a directory', () => rm(configPath).then(() => mkdir(configPath)), 'EISDIR'],
    [
      'a symlink loop',
      () =>
        rm(configPath)
          .then(() => symlink(join(dir, 'loop.json'), configPath))
          .then(() => symlink(configPath, join(dir, 'loop.json'))),
      'ELOOP',
    ],
  ])('%s: GLEAN_CONFIG_UNREADABLE naming the path and the errno code', async (_what, breakIt, errno) => {
    const error = await badReload(breakIt, ErrorCode.CONFIG_UNREADABLE);
    expect(error.message).toMatch(
      new RegExp(`^config ${configPath.replace(/[.]/g, '\\.')} is unreadable: ${errno} \\(`),
    );
    expect((error.cause as NodeJS.ErrnoException).code).toBe(errno);
    await rm(join(dir, 'loop.json'), { force: true });
  });
});

describe('a first load from a bad config path rejects and starts nothing', () => {
  it.each([
    ['a directory', async (temp: TempDir) => mkdir(temp.path('plugin.json')), ErrorCode.CONFIG_UNREADABLE],
    [
      'a symlink loop',
      async (temp: TempDir) => {
        await symlink(temp.path('b.json'), temp.path('plugin.json'));
        await symlink(temp.path('plugin.json'), temp.path('b.json'));
      },
      ErrorCode.CONFIG_UNREADABLE,
    ],
    [
      'threads absurdly large',
      (temp: TempDir) => temp.write('plugin.json', [{ id: 'G', file: 'greet.mjs', name: 'Greet', threads: 1e9 }]),
      ErrorCode.CONFIG_INVALID,
    ],
  ])('%s', async (_what, makeIt, code) => {
    const temp = await tempDir();
    await temp.write('greet.mjs', GREET('v1'));
    await makeIt(temp);
    const { glean, baseline } = await startGlean({ temp, configPath: temp.path('plugin.json'), load: false });
    const error = await rejectionOf(glean.loadConfig());
    expect(error.code).toBe(code);
    expect(error.message).toContain(`config ${temp.path('plugin.json')} is`);
    expect(threadCount()).toBe(baseline);
    expect((await rejectionOf(glean.reloadAndWatch('G'))).code).toBe(ErrorCode.NOT_CONFIGURED);
  });
});

describe('a bad plugin file while plugins serve changes nothing', () => {
  interface Serving {
    readonly temp: TempDir;
    readonly glean: Glean;
    readonly greet: Handle<(name: string) => string>;
    readonly thread: number;
    readonly serving: number;
  }

  async function serving(): Promise<Serving> {
    const { glean, temp } = await startGlean({
      files: { 'greet.mjs': GREET('v1') },
      config: [
        { id: 'G', file: 'greet.mjs', name: 'Greet' },
        { id: 'T', file: 'greet.mjs', name: 'whichThread' },
      ],
    });
    const greet = await glean.reloadAndWatch<(name: string) => string>('G');
    const thread = await (await glean.reloadAndWatch<() => number>('T'))();
    return { temp, glean, greet, thread, serving: threadCount() };
  }

  /**
   * Adds an id `Bad` naming `file` (written with `content` unless undefined) beside the serving ones,
   * and checks that the reload fails with `code`, naming the file, and that nothing changed.
   */
  async function badPlugin(
    s: Serving,
    file: string,
    content: string | Uint8Array | undefined,
    code: string,
    name = 'Bad',
  ): Promise<GleanError> {
    if (typeof content === 'string') await s.temp.write(file, content);
    else if (content !== undefined) await writeFile(s.temp.path(file), content);
    const before = s.glean.status();
    await s.temp.write('plugin.json', [
      { id: 'G', file: 'greet.mjs', name: 'Greet' },
      { id: 'T', file: 'greet.mjs', name: 'whichThread' },
      { id: 'Bad', file, name },
    ]);
    const emitted = nextEvent<GleanError>(s.glean, 'error');
    const error = await rejectionOf(s.glean.reloadConfig());
    expect(error.code).toBe(code);
    expect(await emitted).toBe(error);
    expect(error).toMatchObject({ id: 'Bad', file: s.temp.path(file) });
    expect(error.message).toContain(`plugin "Bad" (${s.temp.path(file)})`);
    expect(s.glean.status()).toEqual(before);
    // Nothing changed: the serving ids answer from the same worker, Bad is not configured.
    expect(await s.greet('x')).toBe('v1:x');
    expect(await (await s.glean.reloadAndWatch<() => number>('T'))()).toBe(s.thread);
    expect((await rejectionOf(s.glean.reloadAndWatch('Bad'))).code).toBe(ErrorCode.NOT_CONFIGURED);
    expect(Object.keys(s.glean.status())).toEqual(['G', 'T']);
    await threadsBackTo(s.serving);
    return error;
  }

  it('the export missing: GLEAN_SYMBOL_NOT_FOUND listing the exports that exist', async () => {
    const s = await serving();
    const error = await badPlugin(
      s,
      'other.mjs',
      'export const alpha = 1;\nexport function beta() {}\n',
      ErrorCode.SYMBOL_NOT_FOUND,
      'gamma',
    );
    expect(error.message.replaceAll(s.temp.dir, '<dir>')).toMatchInlineSnapshot(
      `"plugin "Bad" (<dir>/other.mjs): export "gamma" not found; exports are: alpha, beta"`,
    );
  });

  it('an empty module: GLEAN_SYMBOL_NOT_FOUND saying it exports nothing', async () => {
    const s = await serving();
    const error = await badPlugin(s, 'empty.mjs', '', ErrorCode.SYMBOL_NOT_FOUND);
    expect(error.message).toContain('export "Bad" not found; exports are: (none)');
  });

  // Node 22 renamed import assertions to import attributes, with their error's code and wording.
  const JSON_NEEDS_ATTRIBUTE =
    Number(process.versions.node.split('.')[0]) >= 22
      ? 'ERR_IMPORT_ATTRIBUTE_MISSING'
      : 'ERR_IMPORT_ASSERTION_TYPE_MISSING';
  it.each([
    [
      'a binary file named .mjs',
      'binary.mjs',
      new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe, 0x00, 0x00]),
      'Invalid or unexpected token',
      undefined,
    ],
    [
      'a binary file of another extension',
      'binary.so',
      new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01]),
      'Unknown file extension ".so"',
      'ERR_UNKNOWN_FILE_EXTENSION',
    ],
    ['a JSON file', 'data.json', '{ "Bad": 1 }\n', 'needs an import attribute', JSON_NEEDS_ATTRIBUTE],
    [
      'a plain text file',
      'notes.txt',
      'remember to buy milk\n',
      'Unknown file extension ".txt"',
      'ERR_UNKNOWN_FILE_EXTENSION',
    ],
    [
      'prose in a .js file',
      'prose.js',
      'This file explains the plugin, it is not one.\n',
      'Unexpected identifier',
      undefined,
    ],
  ])('%s: GLEAN_LOAD_FAILED naming the file and why it is not a module', async (_what, file, content, why, code) => {
    const s = await serving();
    const error = await badPlugin(s, file, content, ErrorCode.LOAD_FAILED);
    expect(error.message).toContain(`cannot import ${s.temp.path(file)}: `);
    // Node's reason, passed on as Node words it: only the part every supported Node shares is pinned.
    expect(error.message).toContain(why);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as { code?: unknown }).code).toBe(code);
  });

  it('a directory: GLEAN_LOAD_FAILED naming EISDIR', async () => {
    const s = await serving();
    await mkdir(s.temp.path('plugin-dir'));
    const error = await badPlugin(s, 'plugin-dir', undefined, ErrorCode.LOAD_FAILED);
    expect(error.message.replaceAll(s.temp.dir, '<dir>')).toMatchInlineSnapshot(
      `"plugin "Bad" (<dir>/plugin-dir): cannot read the plugin file (EISDIR)"`,
    );
  });
});

describe('an export whose kind changes between versions is refused, and the running version keeps serving', () => {
  it.each([
    ['function', 'an object', 'export const Api = { run() { return "v2"; } };', 'object'],
    ['function', 'a value', 'export const Api = { run: "not a function" };', 'value'],
    ['object', 'a function', 'export function Api() { return "v2"; }', 'function'],
    ['value', 'an object', 'export const Api = { run() { return "v2"; } };', 'object'],
  ] as const)(
    'a %s export that becomes %s: GLEAN_KIND_CHANGED naming the file and both kinds',
    async (from, _to, next, toKind) => {
      const first = {
        function: 'export function Api() { return "v1"; }',
        object: 'export const Api = { run() { return "v1"; } };',
        value: 'export const Api = { run: "v1" };',
      }[from];
      const { glean, temp } = await startGlean({
        files: { 'api.mjs': first },
        config: [{ id: 'Api', file: 'api.mjs', name: 'Api', version: '1' }],
      });
      // The handle's type follows the export's; here the kind is the test's parameter.
      const api: unknown = await glean.reloadAndWatch('Api');
      const read = async (): Promise<unknown> =>
        from === 'function'
          ? (api as () => Promise<string>)()
          : from === 'object'
            ? (api as { run(): Promise<string> }).run()
            : (api as { value: unknown }).value;
      const answer = await read();
      const before = glean.status();
      const serving = threadCount();

      await temp.write('api.mjs', next);
      await temp.write('plugin.json', [{ id: 'Api', file: 'api.mjs', name: 'Api', version: '2' }]);
      const error = await rejectionOf(glean.reloadConfig());
      expect(error.code).toBe(ErrorCode.KIND_CHANGED);
      expect(error).toMatchObject({ id: 'Api', file: temp.path('api.mjs'), version: '2' });
      expect(error.message).toBe(
        `plugin "Api" (${temp.path('api.mjs')}@2): export "Api" is a ${toKind}, the running version's is a ${from}; handles cannot change kind`,
      );
      expect(glean.status()).toEqual({ Api: { ...before['Api'], lastError: error } });
      expect(await read()).toEqual(answer);
      await threadsBackTo(serving);
    },
  );

  it('an id removed and added back with another kind: the new kind serves new handles, an old handle rejects GLEAN_KIND_CHANGED', async () => {
    const { glean, temp } = await startGlean({
      files: { 'api.mjs': 'export function Fn() { return "fn"; }\nexport const Limit = 42;\n' },
      config: [{ id: 'Api', file: 'api.mjs', name: 'Fn' }],
    });
    const old = await glean.reloadAndWatch<() => string>('Api');
    expect(await old()).toBe('fn');

    await temp.write('plugin.json', []);
    await glean.reloadConfig();
    expect((await rejectionOf(old())).code).toBe(ErrorCode.NOT_CONFIGURED);
    await temp.write('plugin.json', [{ id: 'Api', file: 'api.mjs', name: 'Limit' }]);
    await glean.reloadConfig();

    expect((await glean.reloadAndWatch<number>('Api')).value).toBe(42);
    const error = await rejectionOf(old());
    expect(error.code).toBe(ErrorCode.KIND_CHANGED);
    expect(error.message).toBe('"Api" is now a value export; this handle serves a function');
  });
});
