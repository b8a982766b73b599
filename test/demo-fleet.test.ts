/**
 * The httpserver demo as a fleet's replica runs it (examples/kubernetes, npm run fleet): its config
 * path, plugin root and port from the environment, a ConfigMap-style folder as its config, and its
 * reload and activate events printed as JSON lines on stdout.
 */
import { spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configMap, onCleanup, tempDir, until } from './helpers/index.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

describe('the httpserver demo as a replica', () => {
  it('reads DEMO_CONFIG, DEMO_ROOT and PORT, and with DEMO_EVENTS=json prints each reload and activate as a JSON line', async () => {
    const temp = await tempDir();
    await cp(`${REPO}/plugins`, temp.path('plugins'), { recursive: true });
    const config = (plugin: string, activateAt?: string): object => ({
      ...(activateAt !== undefined && { activateAt }),
      plugins: [
        { id: 'FooHandlerID', file: temp.path(`plugins/${plugin}/index.ts`), name: 'FooHandler', version: plugin },
      ],
    });
    // The ConfigMap folder apart from the plugin root, as a mounted volume is.
    const map = await configMap(await tempDir(), config('plugin1'));

    const child = spawn(process.execPath, ['examples/httpserver/server.mjs'], {
      cwd: REPO,
      env: { ...process.env, PORT: '0', DEMO_CONFIG: map.configPath, DEMO_ROOT: temp.dir, DEMO_EVENTS: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    onCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const lines = (): Record<string, unknown>[] =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);

    let port: string | undefined;
    await until(() => {
      if (child.exitCode !== null) throw new Error(`the demo exited with code ${child.exitCode}:\n${output}`);
      port = /http:\/\/localhost:(\d+)\/foo/.exec(output)?.[1];
      return port !== undefined;
    }, 'the demo to print its URL');
    const get = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/foo`)).text();
    expect(await get()).toBe('Hello, world\n');

    const activateAt = new Date(Date.now() + 2000).toISOString();
    await map.swap(config('plugin2', activateAt));
    await until(() => lines().some((line) => line.event === 'activate'), `the activate line:\n${output}`);
    expect(await get()).toBe('Hello, gp\n');
    const [reload, activate] = lines();
    expect(reload).toEqual({
      event: 'reload',
      at: expect.any(Number),
      pid: child.pid,
      id: 'FooHandlerID',
      from: 'plugin1',
      to: 'plugin2',
      file: temp.path('plugins/plugin2/index.ts'),
    });
    expect(activate).toEqual({
      event: 'activate',
      at: expect.any(Number),
      pid: child.pid,
      activateAt,
      switchedAt: expect.any(Number),
      lateMs: 0,
    });
    expect(activate?.switchedAt).toBeGreaterThanOrEqual(Date.parse(activateAt));

    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
