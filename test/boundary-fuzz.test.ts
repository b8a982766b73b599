import { readFileSync } from 'node:fs';
/**
 * Fuzz of the worker-to-host boundary: plugin code finds glean's ports in its own thread (through the
 * inspector's heap query, the strongest reach it has; the ways glean closes are tested in
 * hostile-ports.test.ts) and posts random and malformed messages on them, closes them, or transfers
 * them away. After every attack the host is alive, the healthy plugin answers, every call settled
 * with a documented code, and after close() the threads are back to their baseline.
 *
 * The CI run is short. A longer one:
 *   GLEAN_FUZZ_RUNS=300 npx vitest run test/boundary-fuzz.test.ts
 * (GLEAN_FUZZ_SEED, as a failure prints it, replays a run.)
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ErrorCode, GleanError } from '@glean/core';
import { threadsBackTo } from './helpers/index.js';
import { failOnHostUnhandledRejections } from './helpers/faults.js';
import { startGlean } from './helpers/glean.js';

const RUNS = Number(process.env['GLEAN_FUZZ_RUNS'] ?? 25);
const SEED = process.env['GLEAN_FUZZ_SEED'] === undefined ? undefined : Number(process.env['GLEAN_FUZZ_SEED']);

failOnHostUnhandledRejections();

/** Finds glean's ports on the heap (see the fixture); copied beside the attacker, as a plugin's modules come from inside its root. */
const GLEAN_PORTS = readFileSync(new URL('./fixtures/hostile/glean-ports.mjs', import.meta.url), 'utf8');

/** The attacker: it posts each op on the glean port it names. */
const ATTACKER = `
import { MessageChannel, MessagePort } from 'node:worker_threads';
import { gleanPorts } from './glean-ports.mjs';

const post = MessagePort.prototype.postMessage;

/** Whether the attacker reaches both of glean's ports: without that the fuzz would prove nothing. */
export async function reach() {
  const { call, control } = await gleanPorts();
  return [call !== undefined, control !== undefined];
}

export async function attack(ops) {
  const ports = await gleanPorts();
  let posted = 0;
  for (const op of ops) {
    const port = ports[op.port];
    if (port === undefined) continue;
    if (op.kind === 'close') port.close();
    else if (op.kind === 'transfer-self') {
      const { port1 } = new MessageChannel();
      post.call(ports[op.port === 'call' ? 'control' : 'call'] ?? port1, { type: 'hello', port }, [port]);
    } else if (op.kind === 'transfer-port') {
      const { port2 } = new MessageChannel();
      post.call(port, op.payload, [port2]);
    } else if (op.kind === 'deep') {
      let value = {};
      for (let i = 0; i < op.depth; i++) value = { value };
      post.call(port, op.port === 'call' ? [op.id, value] : { id: op.payload, type: 'RAW', value });
    } else post.call(port, op.payload);
    posted++;
  }
  return posted;
}

export function echo(value) { return value; }
`;

const HEALTHY = `export function echo(value) { return value; }`;

/** What plugin code may post: the shapes the host expects, near misses of them, and junk. */
const payload = fc.oneof(
  fc.constantFrom(null, undefined, 0, -1, 2 ** 53, NaN, '', 'hello', true, {}, [], [1], [1, 2, 3]),
  fc.record(
    {
      type: fc.constantFrom('hello', 'error', 'RAW', 'HANDLER', 'GET', 'APPLY', 'x'),
      threadId: fc.anything(),
      id: fc.anything(),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record({
    type: fc.constant('error'),
    id: fc.oneof(fc.integer({ min: -2, max: 40 }), fc.string()),
    error: fc.anything(),
  }),
  // Stream messages (protocol 6): for calls in flight or not, streams open or not, beyond any window.
  fc.record(
    {
      type: fc.constantFrom('stream', 'items', 'end'),
      id: fc.oneof(fc.integer({ min: -2, max: 40 }), fc.string()),
      key: fc.oneof(fc.constant(null), fc.string(), fc.integer()),
      value: fc.anything(),
      items: fc.oneof(fc.array(fc.integer(), { maxLength: 200 }), fc.anything()),
    },
    { requiredKeys: ['type', 'id'] },
  ),
  fc.tuple(fc.oneof(fc.integer({ min: -2, max: 40 }), fc.double(), fc.string(), fc.constant(2 ** 60)), fc.anything()),
  fc.record({ taskId: fc.integer({ min: 0, max: 5 }), result: fc.anything(), error: fc.anything() }),
  fc.record({
    id: fc.string(),
    type: fc.constantFrom('RAW', 'HANDLER'),
    value: fc.anything(),
    name: fc.constantFrom('proxy', 'throw', 'x'),
  }),
  fc.anything(),
);

const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ port: fc.constantFrom('call', 'control'), kind: fc.constant('post'), payload }) },
  { weight: 1, arbitrary: fc.record({ port: fc.constantFrom('call', 'control'), kind: fc.constant('close') }) },
  { weight: 1, arbitrary: fc.record({ port: fc.constantFrom('call', 'control'), kind: fc.constant('transfer-self') }) },
  {
    weight: 1,
    arbitrary: fc.record({ port: fc.constantFrom('call', 'control'), kind: fc.constant('transfer-port'), payload }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      port: fc.constantFrom('call', 'control'),
      kind: fc.constant('deep'),
      depth: fc.constantFrom(10, 5000),
      id: fc.integer({ min: 1, max: 40 }),
      payload: fc.string(),
    }),
  },
);

/** Whether an op may answer a call as its worker would: a tuple starting with an integer, posted on the call port. */
function forgesResult(op: { port: string; kind: string; payload?: unknown }): boolean {
  if (op.port !== 'call') return false;
  if (op.kind === 'deep') return true;
  return (
    (op.kind === 'post' || op.kind === 'transfer-port') && Array.isArray(op.payload) && Number.isInteger(op.payload[0])
  );
}

/** The codes a call may settle with when the plugin breaks the protocol under it. */
const DOCUMENTED: readonly string[] = [
  ErrorCode.PLUGIN_CRASHED,
  ErrorCode.NOT_CLONEABLE,
  ErrorCode.UNAVAILABLE,
  ErrorCode.TIMEOUT,
];

/**
 * How a call ended, within `ms`: its value, its GleanError code, or 'pending'. The attacker's own
 * throw (posting on a port it just moved fails in the plugin) reaches the caller as its Error, as any
 * plugin error does: that is a value here.
 */
async function outcome(call: Promise<unknown>, ms = 5000): Promise<{ value: unknown } | { code: string } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    call.then(
      (value) => ({ value }),
      (error: unknown) =>
        error instanceof GleanError
          ? { code: error.code }
          : error instanceof Error
            ? { value: error }
            : { code: `neither: ${String(error)}` },
    ),
    new Promise<'pending'>((resolve) => (timer = setTimeout(resolve, ms, 'pending'))),
  ]);
  clearTimeout(timer);
  return result;
}

describe('the worker-to-host boundary under random messages from plugin code', () => {
  it('keeps the host alive, the healthy plugin answering and every call settled with a documented code', async () => {
    const { glean, baseline } = await startGlean({
      files: { 'attacker.mjs': ATTACKER, 'healthy.mjs': HEALTHY, 'glean-ports.mjs': GLEAN_PORTS },
      config: [
        { id: 'Attack', file: 'attacker.mjs', name: 'attack', threads: 2 },
        { id: 'Reach', file: 'attacker.mjs', name: 'reach', threads: 2 },
        { id: 'Echo', file: 'attacker.mjs', name: 'echo', threads: 2 },
        { id: 'Healthy', file: 'healthy.mjs', name: 'echo' },
      ],
      configName: 'glean.json',
    });
    const attack = await glean.reloadAndWatch<(ops: unknown[]) => number>('Attack');
    const echo = await glean.reloadAndWatch<(value: string) => string>('Echo');
    const healthy = await glean.reloadAndWatch<(value: string) => string>('Healthy');
    const reach = await glean.reloadAndWatch<() => [boolean, boolean]>('Reach');
    expect(await reach()).toEqual([true, true]);

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), async (ops) => {
        // A call in flight on the same version while the attack runs, and the attack itself.
        const [beside, attacked] = await Promise.all([outcome(echo('beside')), outcome(attack(ops))]);
        for (const settled of [beside, attacked]) {
          expect(settled).not.toBe('pending');
          if (settled !== 'pending' && 'code' in settled) expect(DOCUMENTED).toContain(settled.code);
        }
        // Plugin code answering a call of its own worker is that plugin's answer: when the attack posts a
        // result tuple on the call port and the call beside shares its worker, that is what it gets.
        if (beside !== 'pending' && 'value' in beside && !ops.some(forgesResult)) expect(beside.value).toBe('beside');
        if (attacked !== 'pending' && 'value' in attacked && attacked.value instanceof Error)
          expect(attacked.value.name).toBe('DataCloneError');
        expect(await healthy('still here')).toBe('still here');
        // The version serves again: a crash loop is revived by a reload, as an operator would.
        if (glean.status()['Attack']?.state === 'failed') await glean.reloadConfig();
        const after = await outcome(echo('after'));
        expect(after).not.toBe('pending');
        if (after !== 'pending' && 'code' in after) expect(DOCUMENTED).toContain(after.code);
      }),
      { numRuns: RUNS, endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) },
    );

    await glean.close();
    await threadsBackTo(baseline);
  }, 120_000);
});
