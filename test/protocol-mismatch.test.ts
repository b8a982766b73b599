/**
 * A @glean/core and a @glean/worker that speak different protocol versions: the worker says its
 * version in its hello, and the host refuses it there, before it sends the worker anything else.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@glean/worker/protocol';
import { HOST_PROTOCOL } from '../packages/core/src/slot.js';
import { tempDir } from './helpers/index.js';

const REPO = resolve(import.meta.dirname, '..');
/** What the two packages need at run time, linked from the workspace's install. */
const DEPENDENCIES = ['piscina', 'comlink', 'zod', 'chokidar', 'readdirp', 'esbuild', 'es-module-lexer'];

/** An application folder with copies of both built packages, the worker's protocol version changed to `protocol`. */
async function installMismatched(dir: string, protocol: number): Promise<void> {
  const modules = join(dir, 'node_modules');
  await mkdir(join(modules, '@glean'), { recursive: true });
  for (const pkg of ['core', 'worker']) {
    await cp(join(REPO, 'packages', pkg), join(modules, '@glean', pkg), {
      recursive: true,
      filter: (source) => !source.includes('/src') && !source.includes('tsbuildinfo'),
    });
  }
  // The protocol module, and the bundle a worker thread runs (dist/worker.js, which inlines it).
  for (const [file, declaration] of [
    ['protocol.js', 'export const PROTOCOL_VERSION'],
    ['worker.js', 'var PROTOCOL_VERSION'],
  ] as const) {
    const protocolFile = join(modules, '@glean', 'worker', 'dist', file);
    const text = await readFile(protocolFile, 'utf8');
    const changed = text.replace(`${declaration} = ${PROTOCOL_VERSION};`, `${declaration} = ${protocol};`);
    if (protocol !== PROTOCOL_VERSION) expect(changed, file).not.toBe(text);
    await writeFile(protocolFile, changed);
  }
  for (const name of DEPENDENCIES) await symlink(join(REPO, 'node_modules', name), join(modules, name));
}

function run(cwd: string, script: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd, timeout: 20_000 },
      (error, stdout, stderr) =>
        resolvePromise({ stdout, stderr, code: error === null ? 0 : ((error as { code?: number }).code ?? null) }),
    );
  });
}

describe('protocol versions', () => {
  it('the host speaks the protocol of the worker runtime it is built with', () => {
    expect(HOST_PROTOCOL).toBe(PROTOCOL_VERSION);
  });

  it('a worker runtime of another protocol is refused at its hello: loadConfig() rejects GLEAN_PROTOCOL_MISMATCH naming both versions, and the process exits cleanly', async () => {
    const temp = await tempDir();
    await installMismatched(temp.dir, PROTOCOL_VERSION + 1);
    await temp.write('hello.mjs', 'export function hello() { return "hi"; }');
    await temp.write('plugin.json', [{ id: 'Hello', file: 'hello.mjs', name: 'hello' }]);
    const { stdout, stderr, code } = await run(
      temp.dir,
      `
import { Glean } from '@glean/core';
const glean = new Glean('plugin.json', { watch: false, logger: false });
try {
  await glean.loadConfig();
  console.log('loaded');
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message, id: error.id }));
}
await glean.close();
`,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const outcome = JSON.parse(stdout) as { code: string; message: string; id: string };
    expect(outcome.code).toBe('GLEAN_PROTOCOL_MISMATCH');
    expect(outcome.id).toBe('Hello');
    expect(outcome.message).toContain(
      `the worker runtime (@glean/worker) speaks protocol ${PROTOCOL_VERSION + 1}, the host (@glean/core) ${PROTOCOL_VERSION}`,
    );
  });

  it('the same copies with the protocol unchanged load and answer, so the refusal above is the version’s doing', async () => {
    const temp = await tempDir();
    await installMismatched(temp.dir, PROTOCOL_VERSION);
    await temp.write('hello.mjs', 'export function hello() { return "hi"; }');
    await temp.write('plugin.json', [{ id: 'Hello', file: 'hello.mjs', name: 'hello' }]);
    const { stdout, stderr } = await run(
      temp.dir,
      `
import { Glean } from '@glean/core';
const glean = new Glean('plugin.json', { watch: false, logger: false });
await glean.loadConfig();
console.log(await (await glean.reloadAndWatch('Hello'))());
await glean.close();
`,
    );
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('hi');
  });
});
