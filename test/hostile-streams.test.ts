/**
 * Plugin code that forges stream messages on glean's call port (found on the heap, as in
 * boundary-fuzz.test.ts): items for a stream that does not exist, for one that already ended, for a
 * call that never streamed, more items than the host granted, a stream for a call never sent. Every
 * one is a breach: the worker is terminated, what was on it rejects `GLEAN_PLUGIN_CRASHED` naming
 * what it did, the host stays alive, nothing waits for ever, the healthy plugin answers, and close()
 * leaves no thread behind.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type CrashEvent } from '@glean/core';
import { STREAM_WINDOW } from '@glean/core/limits';
import { nextEvent, threadsBackTo } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';
import { failOnHostUnhandledRejections, rejectedWith, settledWithin } from './helpers/faults.js';

failOnHostUnhandledRejections();

const GLEAN_PORTS = readFileSync(new URL('./fixtures/hostile/glean-ports.mjs', import.meta.url), 'utf8');

/**
 * Every call to this worker goes to one of these methods, and call ids count from 1 per worker: each
 * method's own call id is the count of calls so far.
 */
const HOSTILE = `
import { MessagePort } from 'node:worker_threads';
import { gleanPorts } from './glean-ports.mjs';
const post = MessagePort.prototype.postMessage;
let calls = 0;
const forge = async (message) => post.call((await gleanPorts()).call, message);
export const Hostile = {
  async *flood(extra) {
    const id = ++calls;
    yield 0;
    await forge({ type: 'items', id, items: Array.from({ length: ${STREAM_WINDOW} + extra }, (_, i) => i) });
    yield 1;
  },
  async afterEnd() {
    const id = ++calls;
    const { call } = await gleanPorts();
    async function* once() {
      try { yield 'only'; }
      // glean posts the stream's end as soon as the generator is done: an item more for it, after that.
      finally { setImmediate(() => post.call(call, { type: 'items', id, items: ['late'] })); }
    }
    return once();
  },
  async notStreaming() {
    const id = ++calls;
    await forge({ type: 'items', id, items: [1] });
    return 'never seen';
  },
  async unknownStream() {
    ++calls;
    await forge({ type: 'end', id: 999_999 });
    return 'never seen';
  },
  async streamForAnother() {
    ++calls;
    await forge({ type: 'stream', id: 999_999, key: null, value: null });
    return 'never seen';
  },
  async malformed() {
    const id = ++calls;
    await forge({ type: 'items', id, items: [] });
    return 'never seen';
  },
  ping() { ++calls; return 'pong'; },
};
`;

interface HostileApi {
  flood(extra: number): AsyncGenerator<number>;
  afterEnd(): Promise<AsyncGenerator<string>>;
  notStreaming(): Promise<string>;
  unknownStream(): Promise<string>;
  streamForAnother(): Promise<string>;
  malformed(): Promise<string>;
  ping(): string;
}

async function setup() {
  const { glean, baseline } = await startGlean({
    files: {
      'hostile.mjs': HOSTILE,
      'glean-ports.mjs': GLEAN_PORTS,
      'healthy.mjs': 'export function echo(value) { return value; }',
    },
    config: [
      { id: 'Hostile', file: 'hostile.mjs', name: 'Hostile', drainTimeoutMs: 500 },
      { id: 'Healthy', file: 'healthy.mjs', name: 'echo' },
    ],
  });
  const hostile = await glean.reloadAndWatch<HostileApi>('Hostile');
  const healthy = await glean.reloadAndWatch<(value: string) => string>('Healthy');
  return { glean, baseline, hostile, healthy };
}

/** After the breach: the healthy plugin answers, the hostile id's replacement worker too, and close() leaves no thread. */
async function expectSurvived(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  expect(await settledWithin(s.healthy('still here'), 5000)).toEqual({ value: 'still here' });
  expect(await settledWithin(s.hostile.ping(), 5000)).toEqual({ value: 'pong' });
  expect(await settledWithin(s.glean.close(), 5000)).toEqual({ value: undefined });
  await threadsBackTo(s.baseline);
}

describe('a plugin that forges stream messages', () => {
  it.each([
    ['one more than the window', 1],
    ['ten times the window', 9 * STREAM_WINDOW],
  ])(
    'sending %s of items: the worker is terminated for it, and the stream rejects GLEAN_PLUGIN_CRASHED without a forged item',
    async (_, extra) => {
      const s = await setup();
      const crashed = nextEvent<CrashEvent>(s.glean, 'crash');
      const stream = await s.hostile.flood(extra);
      // What the worker sent in turn before it is terminated may still arrive; none of the forged items do.
      const items: number[] = [];
      const error = await (async () => {
        try {
          for await (const item of stream) items.push(item);
        } catch (failure) {
          return failure;
        }
        return undefined;
      })();
      expect(items).toEqual([0, 1].slice(0, items.length));
      expect(error).toMatchObject({ code: ErrorCode.PLUGIN_CRASHED });
      expect((await crashed).error.message).toMatch(/more than it was granted \(a window of 64\)/);
      await expectSurvived(s);
    },
  );

  it('sending an item for its stream after the stream ended: a crash event names it, the items sent before are intact', async () => {
    const s = await setup();
    const crashed = nextEvent<CrashEvent>(s.glean, 'crash');
    const stream = await s.hostile.afterEnd();
    const items: string[] = [];
    for await (const item of stream) items.push(item);
    expect(items).toEqual(['only']);
    const crash = await crashed;
    expect(crash.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
    expect(crash.error.message).toMatch(/sent 1 items for stream \d+, which is not open/);
    await expectSurvived(s);
  });

  it.each([
    ['items for a call that returned no stream', 'notStreaming', /sent 1 items for stream \d+, which is not open/],
    ['the end of a stream that does not exist', 'unknownStream', /ended for stream 999999, which is not open/],
    ['a stream for a call never sent', 'streamForAnother', /started a stream for call 999999/],
    ['an empty batch of items', 'malformed', /malformed message/],
  ] as const)(
    'sending %s: the worker is terminated for it (a crash event names it), and the call settles',
    async (_, method, message) => {
      const s = await setup();
      const crashed = nextEvent<CrashEvent>(s.glean, 'crash');
      const outcome = await settledWithin(s.hostile[method](), 5000);
      // The reply the worker posted right after its forgery may arrive before its end; otherwise the call rejects.
      if (!('value' in (outcome as object))) rejectedWith(outcome, ErrorCode.PLUGIN_CRASHED);
      const crash = await crashed;
      expect(crash.error.code).toBe(ErrorCode.PLUGIN_CRASHED);
      expect(crash.error.message).toMatch(message);
      await expectSurvived(s);
    },
  );
});
