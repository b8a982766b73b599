import { describe, expect, it } from 'vitest';
import { transfer } from '@glean/core';
import { startGlean } from './helpers/glean.js';

const PLUGIN = `
let last;
/** How many bytes the plugin's last answer still holds: 0 once they moved to the host. */
export const LastBodySize = () => last.byteLength;
export function Echo(message) {
  const body = new Uint8Array(message.body.byteLength);
  body.set(message.body);
  body[0] = 42;
  last = body;
  const response = { size: message.body.byteLength, body };
  // A plugin marks what it hands over with the registered symbol; it needs no import of glean.
  return message.move ? Object.defineProperty(response, Symbol.for('glean.transfer'), { value: [body.buffer] }) : response;
}
`;

type Echo = (message: { body: Uint8Array; move: boolean }) => { size: number; body: Uint8Array };

async function plugin(): Promise<{
  echo: (message: { body: Uint8Array; move: boolean }) => Promise<{ size: number; body: Uint8Array }>;
  lastBodySize: () => Promise<number>;
}> {
  // Both ids name the same file: one worker serves both, so LastBodySize sees what Echo kept.
  const { glean } = await startGlean({
    files: { 'echo.mjs': PLUGIN },
    config: [
      { id: 'Echo', file: 'echo.mjs', name: 'Echo' },
      { id: 'Last', file: 'echo.mjs', name: 'LastBodySize' },
    ],
  });
  return {
    echo: await glean.reloadAndWatch<Echo>('Echo'),
    lastBodySize: await glean.reloadAndWatch<() => number>('Last'),
  };
}

describe('transferring bytes', () => {
  it('moves an argument marked with transfer() to the worker instead of copying it', async () => {
    const { echo } = await plugin();
    const body = new Uint8Array(1 << 20).fill(7);
    const answer = await echo(transfer({ body, move: false }, [body.buffer]));
    expect(answer.size).toBe(1 << 20);
    expect(body.byteLength).toBe(0); // detached here: it moved
  });

  it('copies an argument that is not marked, leaving the caller its bytes', async () => {
    const { echo } = await plugin();
    const body = new Uint8Array(1024).fill(7);
    expect((await echo({ body, move: false })).size).toBe(1024);
    expect(body.byteLength).toBe(1024);
  });

  it('moves a result the plugin marked with Symbol.for("glean.transfer"), bytes intact', async () => {
    const { echo, lastBodySize } = await plugin();
    const answer = await echo({ body: new Uint8Array(4096).fill(1), move: true });
    expect([answer.body.byteLength, answer.body[0], answer.body[1]]).toEqual([4096, 42, 1]);
    expect(await lastBodySize()).toBe(0);
    await echo({ body: new Uint8Array(16), move: false });
    expect(await lastBodySize()).toBe(16); // unmarked: copied, the plugin keeps its bytes
  });
});
