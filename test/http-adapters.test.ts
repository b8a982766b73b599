/**
 * Hot HTTP handlers through each adapter — node:http, Express, Fastify — on real servers on the
 * loopback, with real workers: a request reaches the plugin with its body as bytes and follows a
 * swap; a body over the limit is answered 413 before any worker sees it; a plugin error 500 with no
 * stack; GLEAN_QUEUE_FULL 503 with Retry-After; GLEAN_TIMEOUT 504.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Handle, type Logger, withOptions } from '@glean/core';
import {
  httpListener,
  type HttpAdapterOptions,
  type HttpErrorContext,
  type HttpHandler,
  type HttpRequest,
  type HttpResponse,
} from '@glean/core/http';
import { expressHandler } from '@glean/core/express';
import { fastifyHandler, gleanFastify } from '@glean/core/fastify';
import { onCleanup, tempDir } from './helpers/index.js';
import { gate, gatedHandler } from './helpers/gate.js';
import { startGlean } from './helpers/glean.js';
import { listen } from './helpers/http.js';

/** Answers say which version served them, and what the plugin saw of the request. */
const greeter = (tag: string): string => `
export function Greet(request) {
  return {
    headers: { 'content-type': 'text/plain; charset=utf-8', 'X-Version': '${tag}' },
    body: '${tag} ' + request.method + ' ' + request.url,
  };
}
`;

const HANDLERS = `
export function Echo(request) {
  const { body } = request;
  const answer = {
    status: 201,
    headers: { 'x-length': body.byteLength, 'x-kind': Object.prototype.toString.call(body) },
    body,
  };
  // The bytes go back the way they came: moved, not copied.
  return Object.defineProperty(answer, Symbol.for('glean.transfer'), { value: [body.buffer] });
}
export function Throw() {
  throw Object.assign(new Error('secret plugin detail'), { code: 'E_PLUGIN' });
}
export function Invalid() {
  return { status: 'fine', body: 'never sent' };
}
`;

/** Holds each request until the test opens its gate, so "in flight" is a fact, not a guess about timing. */
const GATE = gatedHandler('Gate', "'through the gate'");

const ADAPTERS = ['node:http', 'express', 'fastify'] as const;
type Adapter = (typeof ADAPTERS)[number];

/** Serves `handler` on every path through `adapter`, on the loopback; closed after the test. Resolves to its base URL. */
async function serve(adapter: Adapter, handler: HttpHandler, options: HttpAdapterOptions = {}): Promise<string> {
  if (adapter === 'fastify') {
    const app = Fastify();
    await app.register(gleanFastify, { handler, url: '/*', ...options });
    onCleanup(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }
  if (adapter === 'express') {
    const app = express();
    app.use(expressHandler(handler, options));
    return listen(createServer(app));
  }
  return listen(createServer(httpListener(handler, options)));
}

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: { level: string; message: string; details: unknown[] }[] } {
  const lines: { level: string; message: string; details: unknown[] }[] = [];
  return {
    lines,
    warn: (message, ...details) => void lines.push({ level: 'warn', message, details }),
    error: (message, ...details) => void lines.push({ level: 'error', message, details }),
  };
}

describe('the handler contract', () => {
  it('types a plugin export of the contract as a handler the adapters take', () => {
    const FooHandler = (request: HttpRequest): HttpResponse => ({ body: request.url });
    expectTypeOf<Handle<typeof FooHandler>>().toExtend<HttpHandler>();
    expectTypeOf<typeof FooHandler>().toExtend<HttpHandler>();
  });
});

describe.each(ADAPTERS)('through %s', (adapter) => {
  it('reaches the plugin, then follows a swap without a restart', async () => {
    const temp = await tempDir();
    await temp.write('v1.mjs', greeter('v1'));
    await temp.write('v2.mjs', greeter('v2'));
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Foo', file: 'v1.mjs', name: 'Greet' }],
      prewarm: false,
    });
    const base = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Foo'));

    const first = await fetch(`${base}/foo?x=1`);
    expect([first.status, first.headers.get('x-version'), await first.text()]).toEqual([200, 'v1', 'v1 GET /foo?x=1']);

    await temp.write('plugin.json', [{ id: 'Foo', file: 'v2.mjs', name: 'Greet' }]);
    await glean.reloadConfig();
    const second = await fetch(`${base}/foo`, { method: 'POST', body: 'hi' });
    expect([second.status, second.headers.get('x-version'), await second.text()]).toEqual([200, 'v2', 'v2 POST /foo']);
  });

  it("routes by routingKey: each user's requests go to one version, and versionOverride forces one", async () => {
    const temp = await tempDir();
    await temp.write('v1.mjs', greeter('v1'));
    await temp.write('v2.mjs', greeter('v2'));
    const { glean } = await startGlean({
      temp,
      config: [
        {
          id: 'Foo',
          file: 'v1.mjs',
          name: 'Greet',
          version: '1',
          canary: { file: 'v2.mjs', version: '2', weight: 50 },
        },
      ],
      prewarm: false,
    });
    const header = (name: string) => (request: HttpRequest) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const base = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Foo'), {
      routingKey: header('x-user-id'),
      versionOverride: header('x-glean-version'),
    });
    const versionFor = async (user: string, extra: Record<string, string> = {}) =>
      (await fetch(`${base}/`, { headers: { 'x-user-id': user, ...extra } })).headers.get('x-version');
    const seen = new Map<string, Set<string | null>>();
    for (let round = 0; round < 4; round++)
      for (let user = 0; user < 30; user++) {
        const answers = seen.get(`u${user}`) ?? new Set();
        answers.add(await versionFor(`u${user}`));
        seen.set(`u${user}`, answers);
      }
    for (const answers of seen.values()) expect(answers.size).toBe(1);
    const versions = [...seen.values()].map((answers) => [...answers][0]);
    expect(versions).toContain('v1');
    expect(versions).toContain('v2');
    const onStable = [...seen].find(([, answers]) => answers.has('v1'))?.[0] as string;
    expect(await versionFor(onStable, { 'x-glean-version': '2' })).toBe('v2');
  });

  it('hands the plugin the body as bytes, and sends its bytes back intact', async () => {
    const temp = await tempDir();
    await temp.write('handlers.mjs', HANDLERS);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Echo', file: 'handlers.mjs', name: 'Echo' }],
      prewarm: false,
    });
    const base = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Echo'));

    const sent = randomBytes(200_000);
    const answer = await fetch(`${base}/echo`, {
      method: 'POST',
      body: sent,
      headers: { 'content-type': 'application/json' },
    });
    expect([
      answer.status,
      answer.headers.get('x-length'),
      answer.headers.get('x-kind'),
      answer.headers.get('content-type'),
    ]).toEqual([201, '200000', '[object Uint8Array]', 'application/octet-stream']);
    expect(Buffer.from(await answer.arrayBuffer()).equals(sent)).toBe(true);

    const empty = await fetch(`${base}/echo`);
    expect([empty.status, empty.headers.get('x-length'), await empty.text()]).toEqual([201, '0', '']);
  });

  it('answers 413 to a body over bodyLimit, declared or streamed, and never calls the plugin', async () => {
    const temp = await tempDir();
    await temp.write('handlers.mjs', HANDLERS);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Echo', file: 'handlers.mjs', name: 'Echo' }],
      prewarm: false,
    });
    const base = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Echo'), {
      bodyLimit: 1024,
      logger: false,
    });

    const declared = await fetch(`${base}/echo`, { method: 'POST', body: randomBytes(4096) });
    expect(declared.status).toBe(413);
    await declared.arrayBuffer();
    const chunks = [randomBytes(1000), randomBytes(1000)];
    const streamed = await fetch(`${base}/echo`, {
      method: 'POST',
      // A stream has no content-length: the limit is found while reading.
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk === undefined) controller.close();
          else controller.enqueue(chunk);
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    await streamed.arrayBuffer();
    expect(glean.status()['Echo']!.calls).toBe(0);

    const within = await fetch(`${base}/echo`, { method: 'POST', body: randomBytes(1024) });
    expect([within.status, within.headers.get('x-length')]).toEqual([201, '1024']);
  });

  it('answers 500 to a plugin error with no message or stack, and logs it and calls onError with it', async () => {
    const temp = await tempDir();
    await temp.write('handlers.mjs', HANDLERS);
    const { glean } = await startGlean({
      temp,
      config: [
        { id: 'Throw', file: 'handlers.mjs', name: 'Throw' },
        { id: 'Invalid', file: 'handlers.mjs', name: 'Invalid' },
      ],
      prewarm: false,
    });
    const logger = recordingLogger();
    const errors: [unknown, HttpErrorContext][] = [];
    const options: HttpAdapterOptions = { logger, onError: (error, context) => void errors.push([error, context]) };
    const throwing = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Throw'), options);
    const invalid = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Invalid'), options);

    const answer = await fetch(`${throwing}/boom`);
    const text = await answer.text();
    expect([answer.status, answer.headers.get('content-type'), text]).toEqual([
      500,
      'text/plain; charset=utf-8',
      'Internal Server Error\n',
    ]);
    expect(text).not.toMatch(/secret|handlers\.mjs|at /);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toMatchObject({ message: 'secret plugin detail', code: 'E_PLUGIN' });
    expect((errors[0]![0] as Error).stack).toContain('handlers.mjs');
    expect(errors[0]![1]).toEqual({ status: 500, method: 'GET', url: '/boom' });
    expect(logger.lines).toMatchObject([
      { level: 'error', message: 'glean: GET /boom answered 500:', details: [errors[0]![0]] },
    ]);

    const bad = await fetch(`${invalid}/bad`);
    expect([bad.status, await bad.text()]).toEqual([500, 'Internal Server Error\n']);
    expect(errors[1]![0]).toMatchObject({ code: 'GLEAN_HTTP_INVALID_RESPONSE' });
    expect((errors[1]![0] as Error).message).toMatchInlineSnapshot(
      `"the HTTP handler returned an invalid response: status must be an integer from 200 to 599, got "fine""`,
    );
  });

  it("answers 503 with Retry-After when the plugin's queue is full, and still serves the request in flight", async () => {
    const temp = await tempDir();
    await temp.write('gate.mjs', GATE);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Gate', file: 'gate.mjs', name: 'Gate', concurrency: 1, maxQueue: 0 }],
      prewarm: false,
    });
    const logger = recordingLogger();
    const codes: unknown[] = [];
    const base = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Gate'), {
      retryAfterSeconds: 2,
      logger,
      onError: (error) => void codes.push((error as { code?: unknown }).code),
    });
    const door = gate();

    const first = fetch(`${base}/slow`, { headers: { 'x-gate': door.name } });
    await door.ready(1);
    const shed = await fetch(`${base}/slow`, { headers: { 'x-gate': door.name } });
    expect([shed.status, shed.headers.get('retry-after'), await shed.text()]).toEqual([
      503,
      '2',
      'Service Unavailable\n',
    ]);
    expect(codes).toEqual(['GLEAN_QUEUE_FULL']);
    expect(logger.lines).toEqual([]); // shed load is not logged line by line

    door.open();
    const served = await first;
    expect([served.status, await served.text()]).toEqual([200, 'through the gate']);
  });

  it('answers 504 when the call runs past timeoutMs', async () => {
    const temp = await tempDir();
    await temp.write('gate.mjs', GATE);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Gate', file: 'gate.mjs', name: 'Gate', timeoutMs: 150 }],
      prewarm: false,
    });
    const errors: unknown[] = [];
    const base = await serve(adapter, await glean.reloadAndWatch<HttpHandler>('Gate'), {
      logger: false,
      onError: (error) => void errors.push(error),
    });
    const door = gate();

    const answer = await fetch(`${base}/late`, { headers: { 'x-gate': door.name } });
    expect([answer.status, answer.headers.get('retry-after'), await answer.text()]).toEqual([
      504,
      null,
      'Gateway Timeout\n',
    ]);
    expect(errors).toMatchObject([{ code: 'GLEAN_TIMEOUT', id: 'Gate' }]);
  });

  it("keeps a withOptions handle's own timeoutMs when it routes by routingKey and versionOverride", async () => {
    const temp = await tempDir();
    await temp.write('gate.mjs', GATE);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Gate', file: 'gate.mjs', name: 'Gate', version: '1' }],
      prewarm: false,
    });
    const errors: unknown[] = [];
    const handle = withOptions(await glean.reloadAndWatch<HttpHandler>('Gate'), { timeoutMs: 150 });
    const base = await serve(adapter, handle, {
      logger: false,
      onError: (error) => void errors.push(error),
      routingKey: () => 'user-1',
      versionOverride: () => '1',
    });
    const door = gate();

    const answer = await fetch(`${base}/late`, { headers: { 'x-gate': door.name } });
    expect(answer.status).toBe(504);
    expect(errors).toMatchObject([{ code: 'GLEAN_TIMEOUT', id: 'Gate' }]);
  });
});

describe('bodies other middleware already read', () => {
  it('Express: takes the bytes of express.raw(), and answers 500 GLEAN_HTTP_BODY_UNAVAILABLE to a body express.json() made an object', async () => {
    const temp = await tempDir();
    await temp.write('handlers.mjs', HANDLERS);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Echo', file: 'handlers.mjs', name: 'Echo' }],
      prewarm: false,
    });
    const echo = await glean.reloadAndWatch<HttpHandler>('Echo');
    const errors: unknown[] = [];
    const app = express();
    app.post('/raw', express.raw({ type: '*/*' }), expressHandler(echo));
    app.post(
      '/json',
      express.json(),
      expressHandler(echo, { logger: false, onError: (error) => void errors.push(error) }),
    );
    const base = await listen(createServer(app));

    const raw = await fetch(`${base}/raw`, {
      method: 'POST',
      body: 'bytes',
      headers: { 'content-type': 'text/plain' },
    });
    expect([raw.status, await raw.text()]).toEqual([201, 'bytes']);
    const json = await fetch(`${base}/json`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect([json.status, await json.text()]).toEqual([500, 'Internal Server Error\n']);
    expect(errors).toMatchObject([{ code: 'GLEAN_HTTP_BODY_UNAVAILABLE' }]);
    expect(glean.status()['Echo']!.calls).toBe(1);
  });

  it("Fastify: fastifyHandler takes a raw parser's buffer, and answers 500 GLEAN_HTTP_BODY_UNAVAILABLE to a body Fastify parsed as JSON", async () => {
    const temp = await tempDir();
    await temp.write('handlers.mjs', HANDLERS);
    const { glean } = await startGlean({
      temp,
      config: [{ id: 'Echo', file: 'handlers.mjs', name: 'Echo' }],
      prewarm: false,
    });
    const echo = await glean.reloadAndWatch<HttpHandler>('Echo');
    const errors: unknown[] = [];
    const app = Fastify();
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    app.post('/echo', fastifyHandler(echo, { logger: false, onError: (error) => void errors.push(error) }));
    onCleanup(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const bytes = await fetch(`${base}/echo`, {
      method: 'POST',
      body: new Uint8Array([1, 2, 3]),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect([bytes.status, [...new Uint8Array(await bytes.arrayBuffer())]]).toEqual([201, [1, 2, 3]]);
    const json = await fetch(`${base}/echo`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect([json.status, await json.text()]).toEqual([500, 'Internal Server Error\n']);
    expect(errors).toMatchObject([{ code: 'GLEAN_HTTP_BODY_UNAVAILABLE' }]);
  });
});
