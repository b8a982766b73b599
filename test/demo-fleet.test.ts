/**
 * The httpserver demo as a fleet's replica runs it (examples/kubernetes, npm run fleet): its config
 * path, plugin root and port from the environment, a ConfigMap-style folder as its config, and its
 * reload and activate events printed as JSON lines on stdout.
 */
import { cp } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { demoPort, REPO, startExample } from './helpers/example.js';
import { configMap, tempDir, until } from './helpers/index.js';

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

    const demo = startExample('examples/httpserver/server.mjs', {
      env: { ...process.env, PORT: '0', DEMO_CONFIG: map.configPath, DEMO_ROOT: temp.dir, DEMO_EVENTS: 'json' },
    });
    const { child, exited, output } = demo;
    const lines = (): Record<string, unknown>[] =>
      output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);

    const port = await demoPort(demo);
    const get = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/foo`)).text();
    expect(await get()).toBe('Hello, world\n');

    // Far enough ahead that the replica reads the swap and readies plugin2 (a worker and a .ts load, in
    // a process of its own) before the time on a loaded 2-core machine: the switch is then on time, lateMs 0.
    const aheadMs = 8000;
    const activateAt = new Date(Date.now() + aheadMs).toISOString();
    await map.swap(config('plugin2', activateAt));
    await until(
      () => lines().some((line) => line.event === 'activate'),
      `the activate line:\n${output()}`,
      2 * aheadMs,
    );
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
