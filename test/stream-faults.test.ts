/**
 * A streamed result's faults stay its own: an item that cannot even be looked at fails that stream
 * alone, not its worker and the other calls on it; large items do not pile up in the worker's heap
 * before they are posted; a generator whose `finally` blocks its worker's event loop gets the worker
 * probed and replaced once the reader's `return()` gave up on it, as a call's timeout does, instead
 * of holding the worker and its version.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, withOptions } from '@glean/core';
import { nextEvent, until } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';
import { failOnHostUnhandledRejections, recordEvents, settledWithin } from './helpers/faults.js';

failOnHostUnhandledRejections();

const PLUGIN = `
export const Streams = {
  // Its symbol lookups throw: the one glean makes for transfer() marks, say.
  async *trapItem() {
    yield 1;
    yield new Proxy({}, { get(_, key) { if (typeof key === 'symbol') throw new Error('symbol trap'); return undefined; } });
  },
  async *stuckFinally() {
    try { for (;;) yield 1; } finally { for (;;) {} }
  },
  async slow(ms) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 'slow done';
  },
  ping: () => 'pong',
  // 200 MB in all, 4 MB at a time, read at once: a worker whose heap is 64 MB holds a few of them.
  async *large() {
    for (let i = 0; i < 50; i++) yield String(i).padEnd(4 * 1024 * 1024, '.');
  },
};
`;

interface StreamsApi {
  trapItem(): AsyncGenerator<unknown>;
  stuckFinally(): AsyncGenerator<number>;
  slow(ms: number): Promise<string>;
  ping(): string;
  large(): AsyncGenerator<string>;
}

async function setup(options: Record<string, unknown> = {}) {
  const { glean } = await startGlean({
    files: { 'streams.mjs': PLUGIN },
    config: [{ id: 'Streams', file: 'streams.mjs', name: 'Streams', ...options }],
  });
  return { glean, streams: await glean.reloadAndWatch<StreamsApi>('Streams') };
}

describe("a stream's faults", () => {
  it('an item whose lookups throw fails its stream GLEAN_NOT_CLONEABLE after the items before it; the worker and its other calls go on', async () => {
    const { glean, streams } = await setup();
    const crashes = recordEvents(glean, 'crash');
    const slow = streams.slow(300);
    const items: unknown[] = [];
    let error: unknown;
    try {
      for await (const item of await streams.trapItem()) items.push(item);
    } catch (thrown) {
      error = thrown;
    }
    expect(items).toEqual([1]);
    expect(error).toMatchObject({ code: ErrorCode.NOT_CLONEABLE });
    expect((error as Error).message).toContain('stream item 1');
    expect(await settledWithin(slow, 5000)).toEqual({ value: 'slow done' });
    expect(crashes).toEqual([]);
  });

  it("a generator whose finally blocks the worker: once the reader's return() gave up (timeoutMs), the worker is probed and replaced", async () => {
    const { glean, streams } = await setup();
    const crashed = nextEvent(glean, 'crash');
    for await (const _ of await withOptions(streams, { timeoutMs: 200 }).stuckFinally()) break;
    // Not held until a drain or close() runs out: the blocked worker answers no ping, and is replaced.
    const crash = (await crashed) as { error: { code: string; message: string }; restarting: boolean };
    expect(crash.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(crash.error.message).toContain('its event loop was blocked');
    expect(crash.restarting).toBe(true);
    await until(() => glean.status()['Streams']!.inFlight === 0, 'the stream off the books', 5000);
    expect(await settledWithin(streams.ping(), 5000)).toEqual({ value: 'pong' });
  });

  it('large items go as they are read, not 64 to a message: 4 MB strings stream whole from a worker with a 64 MB heap', async () => {
    const { glean, streams } = await setup({ resourceLimits: { maxOldGenerationSizeMb: 64 } });
    const crashes = recordEvents(glean, 'crash');
    let count = 0;
    let bytes = 0;
    for await (const item of await streams.large()) {
      count++;
      bytes += item.length;
    }
    expect({ count, bytes }).toEqual({ count: 50, bytes: 50 * 4 * 1024 * 1024 });
    expect(crashes).toEqual([]);
  });
});
