/**
 * Ids naming the same file, version and options share one plugin version, and so its workers; an id
 * with other options gets workers of its own.
 */
import { describe, expect, test } from 'vitest';
import { sharedGlean } from './helpers/glean.js';

describe('ids naming the same file, version and options share one version', () => {
  const suite = sharedGlean({
    files: {
      'shared.mjs': `
import { threadId } from 'node:worker_threads';
export function whichThread() { return threadId; }
export const calc = { whichThread() { return threadId; } };
`,
    },
    config: [
      { id: 'Fn', file: 'shared.mjs', name: 'whichThread', version: '1.0' },
      { id: 'Obj', file: 'shared.mjs', name: 'calc', version: '1.0' },
      { id: 'Wide', file: 'shared.mjs', name: 'whichThread', version: '1.0', threads: 2 },
    ],
  });

  test('two ids with different export names but the same file, version and options run in the same worker', async () => {
    const status = suite.glean.status();
    const fnThreads = status['Fn']?.threads.map((t) => t.threadId);
    expect(fnThreads).toHaveLength(1);
    expect(fnThreads?.[0]).toBeGreaterThan(0);
    expect(status['Obj']?.threads.map((t) => t.threadId)).toEqual(fnThreads);
    const fn = await suite.glean.reloadAndWatch<() => number>('Fn');
    const obj = await suite.glean.reloadAndWatch<{ whichThread(): number }>('Obj');
    expect(await fn()).toBe(fnThreads?.[0]);
    expect(await obj.whichThread()).toBe(fnThreads?.[0]);
  });

  test('an id with other options (threads) gets workers of its own', async () => {
    const status = suite.glean.status();
    const wide = status['Wide']?.threads.map((t) => t.threadId) ?? [];
    expect(wide).toHaveLength(2);
    expect(new Set(wide).size).toBe(2);
    for (const threadId of status['Fn']?.threads.map((t) => t.threadId) ?? []) expect(wide).not.toContain(threadId);
  });
});
