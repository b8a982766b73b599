/**
 * The test's end of a gate held in a plugin: the plugin opens a BroadcastChannel named by the request,
 * posts 'ready' and waits for 'open'. So "in flight" is a fact, not a guess about timing.
 */
import { randomUUID } from 'node:crypto';
import { onCleanup } from './index.js';

/**
 * Source of a plugin export `name` that holds each request at the gate named by its `x-gate` header
 * until the test opens it, then answers `{ body: <answer> }` (`answer` is a JavaScript expression).
 */
export function gatedHandler(name: string, answer: string): string {
  return `
export async function ${name}(request) {
  const channel = new BroadcastChannel(request.headers['x-gate']);
  const opened = new Promise((resolve) => (channel.onmessage = (event) => event.data === 'open' && resolve()));
  channel.postMessage('ready');
  await opened;
  channel.close();
  return { body: ${answer} };
}
`;
}

/** The test's end of a gate: how many requests wait behind it, and a way to let them all through. */
export interface Gate {
  readonly name: string;
  /** Resolves once `count` requests have reached the plugin and wait. */
  ready(count: number): Promise<void>;
  open(): void;
}

/** A new gate; opened, and closed, after the current test whatever happened, before its Glean closes. */
export function gate(): Gate {
  const name = `glean-test-gate-${randomUUID()}`;
  const channel = new BroadcastChannel(name);
  let waiting = 0;
  const listeners = new Set<() => void>();
  channel.onmessage = (event: MessageEvent) => {
    if (event.data !== 'ready') return;
    waiting++;
    for (const listener of listeners) listener();
  };
  let closed = false;
  const open = (): void => {
    if (closed) return;
    channel.postMessage('open');
  };
  onCleanup(() => {
    open();
    closed = true;
    channel.close();
  });
  return {
    name,
    open,
    ready: (count) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${count} requests at the gate (${waiting} there)`)),
          10_000,
        );
        const check = (): void => {
          if (waiting < count) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
      }),
  };
}
