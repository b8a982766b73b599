/**
 * The status handler on real servers (node:http, Express, Fastify) over real threads and files: 503
 * until the first load resolves, 200 while every id serves (a reload under way too), 503 once an
 * id's version failed (crash loop), after a failed first load and after close(); the body says what
 * each id runs and which config was applied (its generation), which a failed reload leaves as it
 * was; other methods than GET and HEAD are answered 405. And the readiness rule alone, without threads.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Glean, PluginStatus } from '@glean/core';
import { CRASH_LIMIT } from '@glean/core/limits';
import { type StatusReport, statusHandler } from '@glean/core/http';
import { expressStatusHandler } from '@glean/core/express';
import { fastifyStatusHandler } from '@glean/core/fastify';
import { statusReport } from '../packages/core/src/http/status.js';
import { onCleanup } from './helpers/index.js';
import { rejectionOf } from './helpers/errors.js';
import { gate, type Gate } from './helpers/gate.js';
import { startGlean } from './helpers/glean.js';
import { listen } from './helpers/http.js';

/** A plugin whose import waits at `door` until the test opens it, then exports `hello()` answering `answer`. */
const gatedPlugin = (door: Gate, answer: string): string => `
const channel = new BroadcastChannel(${JSON.stringify(door.name)});
await new Promise((resolve) => {
  channel.onmessage = (event) => event.data === 'open' && resolve();
  channel.postMessage('ready');
});
channel.close();
export function hello() { return ${JSON.stringify(answer)}; }
`;

const plainPlugin = (answer: string): string => `export function hello() { return ${JSON.stringify(answer)}; }\n`;

/** What a status request got: its status, headers that matter, and the body parsed (undefined when empty). */
interface Answer {
  readonly status: number;
  readonly type: string | null;
  readonly cache: string | null;
  readonly allow: string | null;
  readonly body: StatusReport | undefined;
}

async function ask(url: string, method = 'GET'): Promise<Answer> {
  const answer = await fetch(url, { method, signal: AbortSignal.timeout(10_000) });
  const text = await answer.text();
  return {
    status: answer.status,
    type: answer.headers.get('content-type'),
    cache: answer.headers.get('cache-control'),
    allow: answer.headers.get('allow'),
    body:
      text === '' || !answer.headers.get('content-type')?.startsWith('application/json') ? undefined : JSON.parse(text),
  };
}

/** The status handler of `glean` on a node:http server on the loopback; closed after the test. */
const serveStatus = (glean: Glean): Promise<string> => listen(createServer(statusHandler(glean)));

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('statusHandler on node:http', () => {
  it('answers 503 while the first load runs, then 200 with every id once loadConfig() resolved', async () => {
    const door = gate();
    const { glean, configPath, temp } = await startGlean({
      files: { 'p.mjs': gatedPlugin(door, 'v1') },
      config: [{ id: 'P', file: 'p.mjs', name: 'hello', version: '1.0' }],
      load: false,
    });
    const url = await serveStatus(glean);
    expect(await ask(url)).toEqual({
      status: 503,
      type: 'application/json; charset=utf-8',
      cache: 'no-store',
      allow: null,
      body: { ready: false, generation: null, activation: null, plugins: {} },
    });

    const loading = glean.loadConfig();
    await door.ready(1);
    expect(await ask(url)).toMatchObject({ status: 503, body: { ready: false, generation: null, plugins: {} } });
    door.open();
    await loading;

    const loaded = await ask(url);
    expect(loaded.status).toBe(200);
    expect(loaded.body).toEqual({
      ready: true,
      generation: sha256(configPath),
      activation: null,
      plugins: {
        P: {
          state: 'ready',
          file: temp.path('p.mjs'),
          version: '1.0',
          graphHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          modules: 1,
          threads: 1,
          inFlight: 0,
          calls: 0,
          errors: 0,
          restarts: 0,
          lastError: null,
          canary: null,
        },
      },
    });
    expect(glean.generation).toBe(sha256(configPath));
  });

  it('stays 200 during a reload (the new version gated in its import); after it, version, graphHash and generation are the new ones', async () => {
    const { glean, configPath, temp } = await startGlean({
      files: { 'a.mjs': plainPlugin('v1') },
      config: [{ id: 'P', file: 'a.mjs', name: 'hello', version: '1.0' }],
    });
    const url = await serveStatus(glean);
    const before = (await ask(url)).body!;
    expect(before.plugins!['P']).toMatchObject({ state: 'ready', version: '1.0' });

    const door = gate();
    await temp.write('b.mjs', gatedPlugin(door, 'v2'));
    await temp.write('plugin.json', [{ id: 'P', file: 'b.mjs', name: 'hello', version: '2.0' }]);
    const reloading = glean.reloadConfig();
    await door.ready(1);
    const during = await ask(url);
    expect(during.status).toBe(200);
    expect(during.body).toMatchObject({
      ready: true,
      generation: before.generation,
      plugins: {
        P: { state: 'loading', version: '1.0', file: temp.path('a.mjs'), graphHash: before.plugins!['P']!.graphHash },
      },
    });
    door.open();
    await reloading;

    const after = await ask(url);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({
      ready: true,
      generation: sha256(configPath),
      plugins: { P: { state: 'ready', version: '2.0', file: temp.path('b.mjs') } },
    });
    expect(after.body!.generation).not.toBe(before.generation);
    expect(after.body!.plugins!['P']!.graphHash).not.toBe(before.plugins!['P']!.graphHash);
  });

  it('keeps the generation of the config last applied when a change fails to load, and reports the failure as lastError', async () => {
    const { glean, temp } = await startGlean({
      files: { 'a.mjs': plainPlugin('v1') },
      config: [{ id: 'P', file: 'a.mjs', name: 'hello', version: '1.0' }],
    });
    const url = await serveStatus(glean);
    const applied = glean.generation;
    expect(applied).toMatch(/^[0-9a-f]{64}$/);

    await temp.write('broken.mjs', 'export function hello( {\n');
    await temp.write('plugin.json', [{ id: 'P', file: 'broken.mjs', name: 'hello', version: '2.0' }]);
    expect((await rejectionOf(glean.reloadConfig())).code).toBe('GLEAN_LOAD_FAILED');
    const afterFailedLoad = await ask(url);
    expect(afterFailedLoad).toMatchObject({
      status: 200,
      body: {
        ready: true,
        generation: applied,
        plugins: { P: { state: 'ready', version: '1.0', lastError: { code: 'GLEAN_LOAD_FAILED' } } },
      },
    });
    expect(afterFailedLoad.body!.plugins!['P']!.lastError!.message).toContain('broken.mjs');

    await temp.write('plugin.json', '[{ "id": "P", ');
    expect((await rejectionOf(glean.reloadConfig())).code).toBe('GLEAN_CONFIG_INVALID');
    expect(glean.generation).toBe(applied);
    expect((await ask(url)).body).toMatchObject({ ready: true, generation: applied });
  });

  it('answers 503 once an id has failed (crash loop), naming the crash, and 200 again once a fixed version serves', async () => {
    const { glean, temp } = await startGlean({
      files: { 'dies.mjs': 'export function die() { process.exit(1); }\n' },
      config: [{ id: 'D', file: 'dies.mjs', name: 'die' }],
    });
    const url = await serveStatus(glean);
    const die = await glean.reloadAndWatch<() => never>('D');
    // Restarts back off (0, 100, 200, 400, 800 ms): the loop ends after about 1.5 s of waiting.
    for (let attempt = 0; attempt < CRASH_LIMIT + 3; attempt++)
      if ((await rejectionOf(die())).code !== 'GLEAN_PLUGIN_CRASHED') break;
    expect(glean.status()['D']!.state).toBe('failed');

    const failed = await ask(url);
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({
      ready: false,
      plugins: { D: { state: 'failed', restarts: CRASH_LIMIT, lastError: { code: expect.stringMatching(/^GLEAN_/) } } },
    });

    await temp.write('dies.mjs', 'export function die() { return "fixed"; }\n');
    await glean.reloadConfig();
    expect(await ask(url)).toMatchObject({ status: 200, body: { ready: true, plugins: { D: { state: 'ready' } } } });
  });

  it('answers 503 after a failed first load, and after close()', async () => {
    const failing = await startGlean({
      files: { 'broken.mjs': 'export function hello( {\n' },
      config: [{ id: 'P', file: 'broken.mjs', name: 'hello' }],
      load: false,
    });
    const failingUrl = await serveStatus(failing.glean);
    expect((await rejectionOf(failing.glean.loadConfig())).code).toBe('GLEAN_LOAD_FAILED');
    expect(await ask(failingUrl)).toMatchObject({ status: 503, body: { ready: false, generation: null, plugins: {} } });

    const { glean } = await startGlean({
      files: { 'a.mjs': plainPlugin('v1') },
      config: [{ id: 'P', file: 'a.mjs', name: 'hello' }],
    });
    const url = await serveStatus(glean);
    expect((await ask(url)).status).toBe(200);
    await glean.close();
    expect(await ask(url)).toMatchObject({ status: 503, body: { ready: false } });
  });

  it('answers HEAD as GET without a body, other methods 405 with Allow, and { ready } alone with details: false', async () => {
    const { glean } = await startGlean({
      files: { 'a.mjs': plainPlugin('v1') },
      config: [{ id: 'P', file: 'a.mjs', name: 'hello' }],
    });
    const url = await serveStatus(glean);
    expect(await ask(url, 'HEAD')).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      cache: 'no-store',
      allow: null,
      body: undefined,
    });
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const refused = await ask(url, method);
      expect([refused.status, refused.allow]).toEqual([405, 'GET, HEAD']);
    }
    const terse = await listen(createServer(statusHandler(glean, { details: false })));
    expect(await ask(terse)).toMatchObject({ status: 200, body: { ready: true } });
    expect(Object.keys((await ask(terse)).body!)).toEqual(['ready']);
  });

  it('refuses, when made, anything that is not a Glean', () => {
    expect(() => statusHandler({} as Glean)).toThrow(TypeError);
    expect(() => expressStatusHandler(null as unknown as Glean)).toThrow(TypeError);
    expect(() => fastifyStatusHandler('glean' as unknown as Glean)).toThrow(/expects a Glean/);
  });
});

describe.each(['express', 'fastify'] as const)('mounted through %s', (adapter) => {
  /** app.get('/glean/status', …) on a real server on the loopback; closed after the test. */
  async function mount(glean: Glean): Promise<string> {
    if (adapter === 'express') {
      const app = express();
      app.get('/glean/status', expressStatusHandler(glean));
      return `${await listen(createServer(app))}/glean/status`;
    }
    const app = Fastify();
    app.get('/glean/status', fastifyStatusHandler(glean));
    onCleanup(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/glean/status`;
  }

  it('answers 503 before the first load, then 200 with the body, and HEAD without one', async () => {
    const { glean, configPath } = await startGlean({
      files: { 'a.mjs': plainPlugin('v1') },
      config: [{ id: 'P', file: 'a.mjs', name: 'hello', version: '1.0' }],
      load: false,
    });
    const url = await mount(glean);
    expect(await ask(url)).toMatchObject({
      status: 503,
      type: 'application/json; charset=utf-8',
      cache: 'no-store',
      body: { ready: false, generation: null, plugins: {} },
    });
    await glean.loadConfig();
    expect(await ask(url)).toMatchObject({
      status: 200,
      type: 'application/json; charset=utf-8',
      cache: 'no-store',
      body: {
        ready: true,
        generation: sha256(configPath),
        plugins: { P: { state: 'ready', version: '1.0', threads: 1 } },
      },
    });
    expect(await ask(url, 'HEAD')).toMatchObject({ status: 200, cache: 'no-store', body: undefined });
  });
});

describe('the readiness rule (statusReport), without threads', () => {
  const plugin = (state: PluginStatus['state'], lastError?: Error): PluginStatus => ({
    id: 'x',
    file: '/srv/x.mjs',
    name: 'x',
    version: '1',
    kind: 'function',
    state,
    threads: [{ threadId: 7, inFlight: 2, ready: true }],
    inFlight: 2,
    calls: 10,
    errors: 1,
    restarts: 0,
    modules: 3,
    graphHash: 'h',
    lastError,
    canary: undefined,
  });

  it('is 200 only while serving with no id failed; loading and draining ids keep it 200', () => {
    const plugins = { a: plugin('ready'), b: plugin('loading'), c: plugin('draining') };
    expect(statusReport({ serving: true, generation: 'g', plugins }).status).toBe(200);
    expect(statusReport({ serving: false, generation: 'g', plugins }).status).toBe(503);
    expect(statusReport({ serving: true, generation: 'g', plugins: { ...plugins, d: plugin('failed') } }).status).toBe(
      503,
    );
    expect(statusReport({ serving: true, generation: 'g', plugins: {} }).report).toEqual({
      ready: true,
      generation: 'g',
      activation: null,
      plugins: {},
    });
    const activation = { activateAt: '2026-12-01T21:00:00Z', switchedAt: 1_796_158_800_120, lateMs: 120 };
    expect(statusReport({ serving: true, generation: 'g', activation, plugins: {} }).report).toMatchObject({
      activation,
    });
  });

  it('gives each id its fields, lastError as { code, message } (code null when it has none), and keeps an id named __proto__', () => {
    const coded = Object.assign(new Error('it broke'), { code: 'GLEAN_PLUGIN_CRASHED' });
    expect(statusReport({ serving: true, generation: undefined, plugins: {} }).report.generation).toBeNull();
    const plugins: Record<string, PluginStatus> = {};
    Object.defineProperty(plugins, '__proto__', { enumerable: true, value: plugin('ready', new Error('plain')) });
    plugins['a'] = plugin('ready', coded);
    const entries = statusReport({ serving: true, generation: 'g', plugins }).report.plugins!;
    expect(Object.keys(entries)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(entries, '__proto__')?.value).toEqual({
      state: 'ready',
      file: '/srv/x.mjs',
      version: '1',
      graphHash: 'h',
      modules: 3,
      threads: 1,
      inFlight: 2,
      calls: 10,
      errors: 1,
      restarts: 0,
      lastError: { code: null, message: 'plain' },
      canary: null,
    });
    expect(entries['a']!.lastError).toEqual({ code: 'GLEAN_PLUGIN_CRASHED', message: 'it broke' });
  });

  it("cuts a plugin's huge error message and code to 1024 characters each, and gives a message that is not a string as ''", () => {
    const huge = Object.assign(new Error('m'.repeat(5_000_000)), { code: 'E'.repeat(5_000_000) });
    const { lastError } = statusReport({ serving: true, generation: 'g', plugins: { a: plugin('ready', huge) } }).report
      .plugins!['a']!;
    expect(lastError).toEqual({ code: `${'E'.repeat(1023)}…`, message: `${'m'.repeat(1023)}…` });
    const exact = new Error('m'.repeat(1024));
    expect(
      statusReport({ serving: true, generation: 'g', plugins: { a: plugin('ready', exact) } }).report.plugins!['a']!
        .lastError,
    ).toEqual({ code: null, message: 'm'.repeat(1024) });
    // A plugin's error rebuilt with the own properties it gave: a message that is not a string.
    const odd = Object.defineProperty(Object.assign(new Error('m'), { code: 7 }), 'message', { value: { big: 'x' } });
    expect(
      statusReport({ serving: true, generation: 'g', plugins: { a: plugin('ready', odd) } }).report.plugins!['a']!
        .lastError,
    ).toEqual({ code: null, message: '' });
  });

  it("gives an id's canary as its version, weight, state and graph hash; a rolled-back one keeps it 200", () => {
    const status = plugin('ready');
    const canary = { version: '2.0', weight: 0, state: 'rolled-back', graphHash: 'c' } as const;
    const withCanary = { ...status, canary: { ...canary, file: '/srv/y.mjs' } } as unknown as PluginStatus;
    const { status: code, report } = statusReport({ serving: true, generation: 'g', plugins: { a: withCanary } });
    expect(code).toBe(200);
    expect(report.plugins?.['a']?.canary).toEqual(canary);
  });

  it('is { ready } alone with details off', () => {
    expect(statusReport({ serving: true, generation: 'g', plugins: { a: plugin('failed') } }, false)).toEqual({
      status: 503,
      report: { ready: false },
    });
  });
});
