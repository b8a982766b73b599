/**
 * A hot HTTP handler on `threads: 2`: concurrent requests are spread over both workers, as
 * `status()` shows while they run; and a request body moves to the worker instead of being copied.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { callHttpHandler, httpListener, type HttpHandler } from '@glean/core/http';
import { onCleanup } from './helpers/index.js';
import { gate, gatedHandler } from './helpers/gate.js';
import { startGlean } from './helpers/glean.js';

/** Waits at a gate until the test opens it, then answers with its thread id; and the size of a body. */
const GATED = `
import { threadId } from 'node:worker_threads';
${gatedHandler('Handler', 'String(threadId)')}
export function Size(request) {
  return { body: String(request.body.byteLength) };
}
`;

describe('a hot HTTP handler on threads: 2', () => {
  it('serves concurrent requests on both workers, least busy first', async () => {
    const { glean } = await startGlean({
      files: { 'gated.mjs': GATED },
      config: [{ id: 'H', file: 'gated.mjs', name: 'Handler', threads: 2 }],
      prewarm: false,
    });
    const server = createServer(httpListener(await glean.reloadAndWatch<HttpHandler>('H')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(
      () =>
        new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    const held = gate();
    const answers = [
      fetch(url, { headers: { 'x-gate': held.name } }),
      fetch(url, { headers: { 'x-gate': held.name } }),
    ];
    await held.ready(2);
    // Both requests run at once, one on each worker.
    const threads = glean.status()['H']!.threads;
    expect(threads).toHaveLength(2);
    expect(threads.map((thread) => thread.inFlight)).toEqual([1, 1]);

    held.open();
    const servedBy = await Promise.all(answers.map(async (answer) => Number(await (await answer).text())));
    expect(new Set(servedBy)).toEqual(new Set(threads.map((thread) => thread.threadId)));
  });
});

describe('the request body', () => {
  it("moves to the worker: the caller's bytes are detached, the plugin gets them all", async () => {
    const { glean } = await startGlean({
      files: { 'gated.mjs': GATED },
      config: [{ id: 'Size', file: 'gated.mjs', name: 'Size' }],
      prewarm: false,
    });
    const size = await glean.reloadAndWatch<HttpHandler>('Size');
    const body = new Uint8Array(1 << 20).fill(7);
    const answer = await callHttpHandler(size, { method: 'POST', url: '/', headers: {}, body });
    expect(answer).toMatchObject({ status: 200, body: String(1 << 20) });
    expect(body.byteLength).toBe(0);
  });

  it('is copied first when it is a view on part of a larger buffer, which stays intact', async () => {
    const { glean } = await startGlean({
      files: { 'gated.mjs': GATED },
      config: [{ id: 'Size', file: 'gated.mjs', name: 'Size' }],
      prewarm: false,
    });
    const size = await glean.reloadAndWatch<HttpHandler>('Size');
    const shared = new Uint8Array(4096).fill(1);
    const body = shared.subarray(1024, 2048);
    expect((await callHttpHandler(size, { method: 'POST', url: '/', headers: {}, body })).body).toBe('1024');
    expect([shared.byteLength, body.byteLength]).toEqual([4096, 1024]);
  });
});
