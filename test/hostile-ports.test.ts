/**
 * Plugin code that reaches the MessagePorts of its own worker: found through
 * `process._getActiveHandles()`, through a patched `MessagePort.prototype.postMessage` (it sees the
 * call port as `this` when glean replies), or through a patched event dispatch (it sees the call port
 * as `this` when a call arrives). It posts garbage on them, forged replies, messages shaped like
 * piscina's or comlink's, or closes them. Every message from a worker is untrusted input: the host
 * stays alive, the healthy plugin beside it keeps answering, every call settles with a result or a
 * coded error, and close() leaves no thread behind.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type CrashEvent, ErrorCode, GleanError } from '@glean/core';
import { nextEvent, threadsBackTo, until } from './helpers/index.js';
import {
  failOnHostUnhandledRejections,
  faultySetup,
  type FaultySetup,
  rejectedWith,
  settledWithin,
  type Outcome,
} from './helpers/faults.js';
import { startGlean } from './helpers/glean.js';

/** test/fixtures/hostile/glean-ports.mjs, for a plugin started without faultySetup(). */
const GLEAN_PORTS = readFileSync(new URL('./fixtures/hostile/glean-ports.mjs', import.meta.url), 'utf8');

failOnHostUnhandledRejections();
failOnHostUncaughtExceptions();

/**
 * Fails every test after which the host saw an uncaught exception. Outside vitest such an exception
 * ends the process; vitest catches it and reports it beside the tests, so a host killed by a
 * message would otherwise let the test pass.
 */
function failOnHostUncaughtExceptions(): void {
  const seen: unknown[] = [];
  const onUncaught = (error: unknown): void => void seen.push(error);
  process.on('uncaughtException', onUncaught);
  afterEach(() => {
    expect(seen.splice(0).map(String)).toEqual([]);
  });
  afterAll(() => {
    expect(seen.map(String)).toEqual([]);
    process.off('uncaughtException', onUncaught);
  });
}

/** What the plugin sends on the ports it found: each group is one or more messages, or `close`. */
type Attack =
  | 'null'
  | 'numbers'
  | 'strings'
  | 'empty object'
  | 'forged hello'
  | 'reply for an id never sent'
  | 'malformed error'
  | 'piscina-shaped'
  | 'comlink-shaped'
  | 'close';

interface FaultyApi {
  threadId(): number;
  slow(ms: number): Promise<number>;
  /** Sends `attacks` on every MessagePort listed by process._getActiveHandles(), at once; returns how many ports it found. */
  viaHandles(attacks: readonly Attack[]): number;
  /** Patches MessagePort.prototype.postMessage: the reply to this very call first sends `attacks` on its port. */
  viaPostMessage(attacks: readonly Attack[]): string;
  /** Patches the event dispatch: the next message arriving on a port (the next call) first sends `attacks` on it. */
  viaDispatch(attacks: readonly Attack[]): string;
}

const FAULTY = `
import { MessagePort, threadId } from 'node:worker_threads';
import { onNextMessage } from './glean-ports.mjs';

/** The messages of each attack; 'malformed error' names the call in flight when the plugin can see it. */
const messages = (attack, callId) => {
  switch (attack) {
    case 'null': return [null];
    case 'numbers': return [0, 42, -1, NaN, 1e300];
    case 'strings': return ['', 'x', 'hello'];
    case 'empty object': return [{}];
    case 'forged hello': return [{ type: 'hello', threadId: 1 }, { type: 'hello', threadId: 1, protocol: 4 }];
    case 'reply for an id never sent': return [[999999, 'x']];
    case 'malformed error': return [{ type: 'error', id: callId }];
    case 'piscina-shaped': return [{ taskId: 1, result: 1 }];
    case 'comlink-shaped': return [{ id: 'x', type: 'RAW' }];
    default: throw new Error('unknown attack ' + attack);
  }
};

function strike(ports, attacks, callId) {
  for (const port of ports) {
    for (const attack of attacks) {
      try {
        if (attack === 'close') port.close();
        else for (const message of messages(attack, callId)) port.postMessage(message);
      } catch {}
    }
  }
}

export const Faulty = {
  threadId() { return threadId; },
  slow(ms) { return new Promise((resolve) => setTimeout(resolve, ms, threadId)); },
  viaHandles(attacks) {
    const ports = process._getActiveHandles().filter((handle) => handle instanceof MessagePort);
    // This is the worker's first call: its id is 1.
    strike(ports, attacks, 1);
    return ports.length;
  },
  viaPostMessage(attacks) {
    const original = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (message, ...rest) {
      MessagePort.prototype.postMessage = original;
      strike([this], attacks, Array.isArray(message) ? message[0] : 1);
      return original.call(this, message, ...rest);
    };
    return 'armed';
  },
  viaDispatch(attacks) {
    onNextMessage(
      (target) => target instanceof MessagePort,
      (target, data) => strike([target], attacks, Array.isArray(data) ? data[0] : 1),
    );
    return 'armed';
  },
};
`;

type Setup = FaultySetup<FaultyApi>;

// A short drain: a call glean lost would otherwise hold close() (and the cleanup after a failed test) for the default 30 s.
const setup = (): Promise<Setup> => faultySetup<FaultyApi>(FAULTY, { drainTimeoutMs: 500 });

const CODES: readonly string[] = Object.values(ErrorCode);

/** Settled: with a result, or a GleanError whose code is one of `codes` (any documented code when omitted). */
function expectSettled(outcome: Outcome, what: string, codes: readonly string[] = CODES): void {
  expect(outcome, `${what} still pending`).not.toBe('pending');
  if (outcome !== 'pending' && 'error' in outcome) {
    expect(outcome.error).toBeInstanceOf(GleanError);
    expect(codes).toContain((outcome.error as GleanError).code);
  }
}

/** The codes a call caught in an attack may reject with. */
const ATTACKED = [ErrorCode.PLUGIN_CRASHED, ErrorCode.NOT_CLONEABLE, ErrorCode.TIMEOUT];

/** After an attack: the healthy plugin answers, a later call to the faulty id settles, and close() leaves no thread. */
async function expectSurvived(
  s: Pick<Setup, 'glean' | 'healthy' | 'baseline'> & { faulty: { threadId(): Promise<number> } },
): Promise<void> {
  expect(await settledWithin(s.healthy('still here'), 5000)).toEqual({ value: 'still here' });
  // A replaced worker may answer it, or it rejects with a coded error.
  expectSettled(await settledWithin(s.faulty.threadId(), 5000), 'a later call to the faulty id');
  expect(await settledWithin(s.healthy('still here'), 5000)).toEqual({ value: 'still here' });
  expect(await settledWithin(s.glean.close(), 5000)).toEqual({ value: undefined });
  await threadsBackTo(s.baseline);
}

const POSTED: Exclude<Attack, 'close'>[] = [
  'null',
  'numbers',
  'strings',
  'empty object',
  'forged hello',
  'reply for an id never sent',
  'malformed error',
  'piscina-shaped',
  'comlink-shaped',
];

describe('a plugin that finds its ports through process._getActiveHandles()', () => {
  it.each(POSTED)(
    'and posts %s on every one of them: the host lives, the call settles, the healthy plugin answers, no thread is left',
    async (attack) => {
      const s = await setup();
      // glean's ports are not listed, and piscina's task port is closed: the plugin finds none to post on.
      expect(await settledWithin(s.faulty.viaHandles([attack]), 5000)).toEqual({ value: 0 });
      expect(s.crashes).toEqual([]);
      await expectSurvived(s);
    },
  );

  it("and closes every one of them: none is glean's, which the listing does not show, and calls go on", async () => {
    const s = await setup();
    const running = s.faulty.slow(100);
    const closing = s.faulty.viaHandles(['close']);
    const [closed, slow] = await Promise.all([settledWithin(closing, 5000), settledWithin(running, 5000)]);
    // glean's ports do not keep the thread alive, so they are not listed; piscina's task port is closed before the plugin loads.
    expect(closed).toEqual({ value: 0 });
    expect(slow).toMatchObject({ value: expect.any(Number) });
    await expectSurvived(s);
  });
});

describe('a plugin that patches MessagePort.prototype.postMessage before glean replies', () => {
  it('and posts every kind of garbage on the call port before the reply: the call settles, the healthy plugin answers, no thread is left', async () => {
    const s = await setup();
    // glean replies through postMessage as it was before the plugin patched it: the patch never sees the port.
    expect(await settledWithin(s.faulty.viaPostMessage(POSTED), 5000)).toEqual({ value: 'armed' });
    expect(await settledWithin(s.faulty.threadId(), 5000)).toMatchObject({ value: expect.any(Number) });
    expect(s.crashes).toEqual([]);
    await expectSurvived(s);
  });

  it.each(['null', 'malformed error'] as const)(
    'and posts %s on the call port before the reply: the call settles',
    async (attack) => {
      const s = await setup();
      expect(await settledWithin(s.faulty.viaPostMessage([attack]), 5000)).toEqual({ value: 'armed' });
      expect(s.crashes).toEqual([]);
      await expectSurvived(s);
    },
  );

  it('and closes the port it sees instead of replying: glean replies through the method as it was before any plugin ran, so the call is answered', async () => {
    const s = await setup();
    expect(await settledWithin(s.faulty.viaPostMessage(['close']), 5000)).toEqual({ value: 'armed' });
    expect(await settledWithin(s.faulty.viaPostMessage(['null']), 5000)).toEqual({ value: 'armed' });
    await expectSurvived(s);
  });
});

describe('a plugin that patches the event dispatch, and so sees the call port when a call arrives', () => {
  it('and posts every kind of garbage on it: the call that arrived settles, the healthy plugin answers, no thread is left', async () => {
    const s = await setup();
    expect(await settledWithin(s.faulty.viaDispatch(POSTED), 5000)).toEqual({ value: 'armed' });
    expectSettled(
      await settledWithin(s.faulty.threadId(), 5000),
      'the call whose arrival triggered the attack',
      ATTACKED,
    );
    // The patch did reach glean's call port: the host found the junk and replaced the worker.
    await until(() => s.crashes.length > 0, 'the worker to be replaced for breaking the protocol', 5000);
    expect(s.crashes[0]?.error.message).toContain("broke glean's protocol");
    await expectSurvived(s);
  });

  it('and closes it: the call that arrived rejects with a coded error within seconds, with no timeoutMs', async () => {
    const s = await setup();
    expect(await settledWithin(s.faulty.viaDispatch(['close']), 5000)).toEqual({ value: 'armed' });
    const outcome = await settledWithin(s.faulty.threadId(), 5000);
    expect(outcome).not.toBe('pending');
    expect(outcome).toMatchObject({ error: expect.any(GleanError) });
    expect(ATTACKED).toContain((outcome as { error: GleanError }).error.code);
    await expectSurvived(s);
  });
});

/** Moves one of glean's ports (found on the heap) into a channel of its own, then never answers: nothing closes at the host's end. */
const MOVER = `
import { MessageChannel, threadId } from 'node:worker_threads';
import { gleanPorts } from './glean-ports.mjs';

const kept = [];
export const Faulty = {
  threadId() { return threadId; },
  async move(which) {
    const port = (await gleanPorts())[which];
    const channel = new MessageChannel();
    channel.port1.postMessage(null, [port]);
    kept.push(channel);
    return new Promise(() => {});
  },
};
`;

describe("a plugin that moves one of glean's ports away, to a channel of its own", () => {
  it.each([
    ['call', 'control'],
    ['control', 'call'],
  ] as const)(
    'the %s port: its runtime closes the other, so the call in flight rejects GLEAN_PLUGIN_CRASHED within seconds with no timeoutMs, and close() waits out no disposeTimeoutMs',
    async (moved, closed) => {
      const s = await faultySetup<{ threadId(): number; move(which: string): Promise<never> }>(MOVER, {
        disposeTimeoutMs: 600_000,
      });
      const crashed = nextEvent<CrashEvent>(s.glean, 'crash');
      const outcome = await settledWithin(s.faulty.move(moved), 5000);
      const error = rejectedWith(outcome, ErrorCode.PLUGIN_CRASHED);
      expect(error.message).toMatch(new RegExp(`broke glean's protocol: it closed its ${closed} port`));
      expect((await crashed).error.message).toContain(`closed its ${closed} port`);
      await expectSurvived(s);
    },
  );
});

describe("a plugin whose import moves glean's control port away and never finishes", () => {
  it('fails its load GLEAN_LOAD_FAILED within seconds, not at loadTimeoutMs, and leaves no thread', async () => {
    const MOVED_AT_LOAD = `
import { MessageChannel } from 'node:worker_threads';
import { gleanPorts } from './glean-ports.mjs';
const channel = new MessageChannel();
channel.port1.postMessage(null, [(await gleanPorts()).control]);
globalThis.kept = channel;
await new Promise(() => {});
export const Faulty = {};
`;
    const { glean, baseline } = await startGlean({
      files: { 'faulty.mjs': MOVED_AT_LOAD, 'glean-ports.mjs': GLEAN_PORTS },
      config: [{ id: 'Faulty', file: 'faulty.mjs', name: 'Faulty', loadTimeoutMs: 600_000 }],
      load: false,
    });
    const error = rejectedWith(await settledWithin(glean.loadConfig(), 10_000), ErrorCode.LOAD_FAILED);
    expect(error.message).toContain('closed its call port');
    await glean.close();
    await threadsBackTo(baseline);
  });
});
