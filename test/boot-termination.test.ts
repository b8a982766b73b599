import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@glean/core';
import { tempDir, threadCount, threadsBackTo } from './helpers/index.js';
import { gleanOver } from './helpers/glean.js';

describe('a version whose load fails while some of its workers still boot', () => {
  it('leaves no thread behind and does not abort the host, load after load', async () => {
    const temp = await tempDir();
    await temp.write('bad.mjs', 'export const P = {'); // a syntax error: the first worker fails fast, the others still boot
    const configPath = await temp.write('glean.json', [{ id: 'P', file: 'bad.mjs', name: 'P', threads: 16 }]);
    const baseline = threadCount();
    for (let i = 0; i < 10; i++) {
      const glean = gleanOver(configPath, { prewarm: false });
      await expect(glean.loadConfig()).rejects.toMatchObject({ code: ErrorCode.LOAD_FAILED });
      await glean.close();
    }
    await threadsBackTo(baseline, 10_000);
  }, 60_000);
});
