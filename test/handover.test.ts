/**
 * handover: "drain-first": on a change, the old version stops taking calls, drains, runs its cleanup
 * and ends its threads before the new one starts; calls made meanwhile wait in its queue (bounded by
 * maxQueue, each by its timeoutMs) and are served by the new version. A new version that fails to
 * load leaves the old one started again from its own bytes. Under "overlap" (the default) a plugin
 * holding a fixed port cannot be swapped: the new version fails EADDRINUSE and the old keeps serving.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type GleanError, withOptions } from '@glean/core';
import { onCleanup, tempDir, type TempDir } from './helpers/index.js';
import { outcomeOf, rejectionOf } from './helpers/errors.js';
import { startGlean } from './helpers/glean.js';

/** A port free now, for the plugin to listen on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An HTTP server on a fixed port, opened at load and closed in dispose; `hello()` answers through glean. */
function portPlugin(port: number, tag: string): string {
  return `
import { createServer } from 'node:http';
const server = createServer((req, res) => res.end('${tag}'));
await new Promise((resolve, reject) => { server.once('error', reject); server.listen(${port}, '127.0.0.1', resolve); });
export function hello() { return '${tag}'; }
export async function slow(ms) { await new Promise((resolve) => setTimeout(resolve, ms)); return '${tag}'; }
export async function dispose() { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)); }
`;
}

/** GET / on the port: the body, or the error's code. */
function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    req.end();
  });
}

async function start(temp: TempDir, port: number, options: Record<string, unknown>) {
  const entry = (file: string, extra: Record<string, unknown> = {}) => [
    { id: 'P', file, name: 'hello', ...options, ...extra },
    { id: 'S', file, name: 'slow', ...options, ...extra },
  ];
  const { glean } = await startGlean({ temp, files: { 'v0.mjs': portPlugin(port, 'v0') }, config: entry('v0.mjs') });
  return {
    glean,
    config: (file: string, extra?: Record<string, unknown>) => temp.write('plugin.json', entry(file, extra)),
  };
}

describe('handover: "drain-first"', () => {
  it('swaps a plugin holding a fixed port ten times while calls keep coming: every call accepted is answered', async () => {
    const temp = await tempDir();
    const port = await freePort();
    const { glean, config } = await start(temp, port, { handover: 'drain-first' });
    const hello = await glean.reloadAndWatch<() => Promise<string>>('P');
    expect(await get(port)).toBe('v0');
    let stop = false;
    const answers: string[] = [];
    const calling = (async () => {
      while (!stop) {
        const calls = Array.from({ length: 4 }, () => hello());
        answers.push(...(await Promise.all(calls)));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    onCleanup(() => {
      stop = true;
    });
    for (let i = 1; i <= 10; i++) {
      await temp.write(`v${i}.mjs`, portPlugin(port, `v${i}`));
      await config(`v${i}.mjs`);
      await glean.reloadConfig();
      // The port is the new version's, served over HTTP, and glean's calls reach it.
      expect(await get(port)).toBe(`v${i}`);
      expect(await hello()).toBe(`v${i}`);
    }
    stop = true;
    await calling;
    expect(answers.length).toBeGreaterThan(10);
    // In order: each call was answered by the version serving when it was taken, never by an older one after a newer.
    const order = answers.map((tag) => Number(tag.slice(1)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(glean.status()['P']).toMatchObject({ state: 'ready', errors: 0, lastError: undefined });
  });

  it('lets calls running on the old version finish there, and serves the calls made meanwhile by the new one', async () => {
    const temp = await tempDir();
    const port = await freePort();
    const { glean, config } = await start(temp, port, { handover: 'drain-first' });
    const slow = await glean.reloadAndWatch<(ms: number) => Promise<string>>('S');
    const running = slow(300);
    await temp.write('v1.mjs', portPlugin(port, 'v1'));
    await config('v1.mjs');
    const reloaded = glean.reloadConfig();
    await handingOver(glean);
    const waiting = slow(0); // made during the handover: waits for v1
    await reloaded;
    expect(await running).toBe('v0');
    expect(await waiting).toBe('v1');
  });

  it('starts the old version again from its own bytes when the new one fails to load: nothing stays down', async () => {
    const temp = await tempDir();
    const port = await freePort();
    const { glean, config } = await start(temp, port, { handover: 'drain-first' });
    const hello = await glean.reloadAndWatch<() => Promise<string>>('P');
    // v0.mjs changes on disk too: the old version restarts from the bytes it loaded, not these.
    await temp.write('v0.mjs', 'export const hello = () => "changed on disk";');
    await temp.write('v1.mjs', 'throw new Error("v1 does not load");');
    await config('v1.mjs');
    const reloading = glean.reloadConfig();
    const during = hello(); // waits in the old version's queue, served once it is back
    expect((await rejectionOf(reloading)).code).toBe(ErrorCode.LOAD_FAILED);
    expect(await during).toBe('v0');
    expect(await hello()).toBe('v0');
    expect(await get(port)).toBe('v0');
    expect(glean.status()['P']).toMatchObject({ state: 'ready' });
  });

  it('rejects calls beyond maxQueue with GLEAN_QUEUE_FULL and past their timeoutMs with GLEAN_TIMEOUT while it waits', async () => {
    const temp = await tempDir();
    const port = await freePort();
    const { glean, config } = await start(temp, port, { handover: 'drain-first', maxQueue: 2 });
    const hello = await glean.reloadAndWatch<() => Promise<string>>('P');
    const slow = await glean.reloadAndWatch<(ms: number) => Promise<string>>('S');
    const running = slow(400); // holds the old version's drain
    // The new version takes long to load, so the calls below wait through the handover.
    await temp.write('v1.mjs', `await new Promise((resolve) => setTimeout(resolve, 300));\n${portPlugin(port, 'v1')}`);
    await config('v1.mjs');
    const reloaded = glean.reloadConfig();
    await handingOver(glean);
    const quick = outcomeOf(withOptions(hello, { timeoutMs: 50 })());
    const first = outcomeOf(hello());
    const beyond = outcomeOf(hello());
    await reloaded;
    expect(await running).toBe('v0');
    expect(await quick).toEqual({ code: ErrorCode.TIMEOUT });
    expect(await first).toEqual({ value: 'v1' });
    expect(await beyond).toEqual({ code: ErrorCode.QUEUE_FULL });
  });

  it('rejects the calls waiting for a handover GLEAN_CLOSED when close() stops it, as it does the reload (the calls never ran)', async () => {
    const temp = await tempDir();
    const port = await freePort();
    const { glean, config } = await start(temp, port, { handover: 'drain-first' });
    const hello = await glean.reloadAndWatch<() => Promise<string>>('P');
    // The new version never finishes loading: the calls below wait until close().
    await temp.write('v1.mjs', `await new Promise(() => {});\n${portPlugin(port, 'v1')}`);
    await config('v1.mjs');
    const reloading = rejectionOf(glean.reloadConfig());
    await handingOver(glean);
    const waiting = [outcomeOf(hello()), outcomeOf(hello())];
    await glean.close();
    expect((await reloading).code).toBe(ErrorCode.CLOSED);
    expect(await Promise.all(waiting)).toEqual([{ code: ErrorCode.CLOSED }, { code: ErrorCode.CLOSED }]);
  });
});

/** Resolves once the id's version hands over (status says loading, its calls queue). */
async function handingOver(glean: { status(): Record<string, { state: string }> }): Promise<void> {
  const deadline = Date.now() + 5000;
  while (glean.status()['P']?.state !== 'loading') {
    if (Date.now() > deadline) throw new Error('the handover did not begin');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('handover: "overlap" (the default)', () => {
  it('cannot swap a plugin holding a fixed port: the new version fails EADDRINUSE and the old keeps serving', async () => {
    const temp = await tempDir();
    const port = await freePort();
    const { glean, config } = await start(temp, port, {});
    const hello = await glean.reloadAndWatch<() => Promise<string>>('P');
    await temp.write('v1.mjs', portPlugin(port, 'v1'));
    await config('v1.mjs');
    const error: GleanError = await rejectionOf(glean.reloadConfig());
    expect(error.code).toBe(ErrorCode.LOAD_FAILED);
    expect(JSON.stringify(error.cause ?? error.message)).toMatch(/EADDRINUSE/);
    expect(await hello()).toBe('v0');
    expect(await get(port)).toBe('v0');
  });
});
