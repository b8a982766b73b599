import { execFile } from 'node:child_process';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/index.js';

const CORE = pathToFileURL(fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url))).href;

/** Runs `script` (an ES module in `cwd`) with `node <flags> script`; resolves with its output. */
function node(
  flags: readonly string[],
  script: string,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...flags, script],
      { cwd, encoding: 'utf8', timeout: 20_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      },
    );
  });
}

describe('a host started with Node flags', () => {
  it('runs plugins when its flags include ones a worker thread cannot take (--max-old-space-size, --expose-gc)', async () => {
    const temp = await tempDir();
    await temp.write(
      'plugin.mjs',
      'export const double = (x) => x * 2;\nexport const hasGc = () => typeof globalThis.gc;\n',
    );
    await temp.write('glean.json', [
      { id: 'double', file: 'plugin.mjs', name: 'double' },
      { id: 'hasGc', file: 'plugin.mjs', name: 'hasGc' },
    ]);
    const host = await temp.write(
      'host.mjs',
      [
        `import { Glean } from ${JSON.stringify(CORE)};`,
        `const glean = new Glean('glean.json', { watch: false });`,
        `await glean.loadConfig();`,
        `const double = await glean.reloadAndWatch('double');`,
        `const hasGc = await glean.reloadAndWatch('hasGc');`,
        `console.log(JSON.stringify({ doubled: await double(21), workerGc: await hasGc() }));`,
        `await glean.close();`,
      ].join('\n'),
    );
    const outcome = await node(['--max-old-space-size=256', '--expose-gc'], host, temp.dir);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    // The workers inherit what they can of the host's flags: --expose-gc reaches them.
    expect(JSON.parse(outcome.stdout)).toEqual({ doubled: 42, workerGc: 'function' });
  });

  it('lets a CommonJS plugin require() an ES module, as the host can on Node 20.19+', async () => {
    const temp = await tempDir();
    await temp.write('answer.mjs', 'export const answer = 42;\n');
    await temp.write('plugin.cjs', "const { answer } = require('./answer.mjs');\nexports.answer = () => answer;\n");
    await temp.write('glean.json', [{ id: 'answer', file: 'plugin.cjs', name: 'answer' }]);
    const host = await temp.write(
      'host.mjs',
      [
        `import { Glean } from ${JSON.stringify(CORE)};`,
        `const glean = new Glean('glean.json', { watch: false, prewarm: false });`,
        `await glean.loadConfig();`,
        `console.log(await (await glean.reloadAndWatch('answer'))());`,
        `await glean.close();`,
      ].join('\n'),
    );
    const outcome = await node(['--no-warnings'], host, temp.dir);
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout.trim()).toBe('42');
  });
});
