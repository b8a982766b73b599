/**
 * Streamed response bodies through each HTTP adapter — node:http, Express, Fastify — on real servers
 * on the loopback, read by a real client (node:http): a handler's `body` that is an async iterable of
 * strings or bytes is written as it comes, chunked or with the content-length the handler set; a
 * client that disconnects stops the plugin's generator (its finally runs in the worker); a stream
 * that fails before its first chunk is answered 500, one that fails later (or does not match its
 * content-length) cuts the connection.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { httpListener, type HttpAdapterOptions, type HttpErrorContext, type HttpHandler } from '@glean/core/http';
import { expressHandler } from '@glean/core/express';
import { gleanFastify } from '@glean/core/fastify';
import { onCleanup, until } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';

const CHUNKS = 10_000;

const PLUGIN = `
const state = { finallyRan: 0, produced: 0 };
const encoder = new TextEncoder();
async function* lines(n) {
  // Strings and bytes alternate: both are chunks.
  for (let i = 0; i < n; i++) yield i % 2 === 0 ? 'chunk ' + i + '\\n' : encoder.encode('chunk ' + i + '\\n');
}
async function* endless() {
  try {
    for (let i = 0; ; i++) { state.produced++; yield 'line ' + i + '\\n'; }
  } finally { state.finallyRan++; }
}
export function Lines(request) {
  const n = Number(new URL(request.url, 'http://x').searchParams.get('n'));
  return { headers: { 'content-type': 'text/plain' }, body: lines(n) };
}
export function Sized(request) {
  const n = Number(new URL(request.url, 'http://x').searchParams.get('n'));
  let length = 0;
  for (let i = 0; i < n; i++) length += ('chunk ' + i + '\\n').length;
  return { headers: { 'Content-Length': length }, body: lines(n) };
}
export function Endless() { return { body: endless() }; }
export function FailFirst() {
  return { body: (async function* () { throw new Error('no data at all'); })() };
}
export function FailLater() {
  return { body: (async function* () { yield 'a first line\\n'; await new Promise((r) => setImmediate(r)); throw new Error('the source broke'); })() };
}
export function Short() { return { headers: { 'content-length': 100 }, body: lines(1) }; }
export function State() { return { ...state }; }
`;

const ADAPTERS = ['node:http', 'express', 'fastify'] as const;
type Adapter = (typeof ADAPTERS)[number];

/** Serves `handler` on every path through `adapter`, on the loopback; closed after the test. Resolves to its port. */
async function serve(adapter: Adapter, handler: HttpHandler, options: HttpAdapterOptions = {}): Promise<number> {
  if (adapter === 'fastify') {
    const app = Fastify();
    await app.register(gleanFastify, { handler, url: '/*', ...options });
    onCleanup(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as AddressInfo).port;
  }
  const server: Server =
    adapter === 'express'
      ? createServer(express().use(expressHandler(handler, options)))
      : createServer(httpListener(handler, options));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** A GET with node:http: the response once its headers are in. */
function get(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** The whole body, or how it broke off. */
function readAll(response: IncomingMessage): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve({ text: Buffer.concat(chunks).toString(), complete: response.complete }));
    response.on('error', () => resolve({ text: Buffer.concat(chunks).toString(), complete: false }));
    response.on('aborted', () => resolve({ text: Buffer.concat(chunks).toString(), complete: false }));
  });
}

const expected = (n: number): string => Array.from({ length: n }, (_, i) => `chunk ${i}\n`).join('');

async function setup(adapter: Adapter, id: string, options: HttpAdapterOptions = {}) {
  const { glean } = await startGlean({
    files: { 'plugin.mjs': PLUGIN },
    config: ['Lines', 'Sized', 'Endless', 'FailFirst', 'FailLater', 'Short', 'State'].map((name) => ({
      id: name,
      file: 'plugin.mjs',
      name,
    })),
    prewarm: false,
  });
  const port = await serve(adapter, await glean.reloadAndWatch<HttpHandler>(id), options);
  const state = await glean.reloadAndWatch<() => { finallyRan: number; produced: number }>('State');
  return { glean, port, state };
}

describe.each(ADAPTERS)('a streamed body through %s', (adapter) => {
  it(`reaches a real client whole, ${CHUNKS} chunks of strings and bytes, chunked`, async () => {
    const { port, glean } = await setup(adapter, 'Lines');
    const response = await get(port, `/lines?n=${CHUNKS}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['content-type']).toBe('text/plain');
    expect(await readAll(response)).toEqual({ text: expected(CHUNKS), complete: true });
    await until(() => glean.status()['Lines']!.inFlight === 0, 'the stream off the books');
  });

  it('is sent with the content-length the handler set, not chunked', async () => {
    const { port } = await setup(adapter, 'Sized');
    const response = await get(port, `/sized?n=${CHUNKS}`);
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(expected(CHUNKS))));
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(await readAll(response)).toEqual({ text: expected(CHUNKS), complete: true });
  });

  it("stops the plugin's generator when the client disconnects mid-stream: its finally runs in the worker", async () => {
    const { port, glean, state } = await setup(adapter, 'Endless');
    const response = await get(port, '/endless');
    await new Promise<void>((resolve) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes > 10_000) resolve();
      });
    });
    response.destroy();
    await until(async () => (await state()).finallyRan === 1, "the generator's finally");
    await until(() => glean.status()['Endless']!.inFlight === 0, 'the stream off the books');
    // Backpressure held: the worker ran no further than what the client had, plus the socket's buffers and one window.
    expect((await state()).produced).toBeLessThan(1_000_000);
  });

  it('answers 500 to a stream that fails before its first chunk, and cuts the connection of one that fails later, reporting it', async () => {
    const errors: [unknown, HttpErrorContext][] = [];
    const options: HttpAdapterOptions = {
      logger: false,
      onError: (error, context) => void errors.push([error, context]),
    };
    const first = await setup(adapter, 'FailFirst', options);
    const failed = await get(first.port, '/fail-first');
    expect(failed.statusCode).toBe(500);
    expect((await readAll(failed)).text).toBe('Internal Server Error\n');

    const later = await setup(adapter, 'FailLater', options);
    const cut = await get(later.port, '/fail-later');
    expect(cut.statusCode).toBe(200);
    expect(await readAll(cut)).toEqual({ text: 'a first line\n', complete: false });

    // Shorter than the content-length the handler set: cut too, never a response that looks whole.
    const short = await setup(adapter, 'Short', options);
    const truncated = await get(short.port, '/short');
    expect([truncated.statusCode, truncated.headers['content-length']]).toEqual([200, '100']);
    expect(await readAll(truncated)).toEqual({ text: 'chunk 0\n', complete: false });
    expect(
      errors.map(([error, context]) => [(error as { code?: string }).code ?? (error as Error).message, context.status]),
    ).toEqual([
      ['no data at all', 500],
      ['the source broke', 200],
      ['GLEAN_HTTP_INVALID_RESPONSE', 200],
    ]);
  });
});
