/**
 * TypeScript is compiled on the host by esbuild's one service process: however many versions of a
 * `.ts` plugin come and go, the host has at most that one child process while a Glean is open, and
 * none once every Glean is closed. Workers are threads; no compiler starts per version or per worker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startGlean } from './helpers/glean.js';
import { until } from './helpers/index.js';

/** The pids of this process's children, from /proc/<pid>/stat (`pid (comm) state ppid …`). */
function childProcesses(): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended while we looked
    }
    // comm may hold spaces and parentheses: the fields after it start past the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid) children.push(Number(name));
  }
  return children;
}

/** The command line of `pid`, '' once it ended. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

const plugin = (n: number): string => `export const n = (): number => ${n};\n`;

describe('child processes of the host', () => {
  it('after 50 swaps of a .ts plugin: at most one (the compiler service) while open, none after close()', async () => {
    const before = childProcesses();
    expect(before).toEqual([]);
    const { glean, temp } = await startGlean({
      files: { 'index.ts': plugin(0), 'package.json': JSON.stringify({ type: 'module' }) },
      config: [{ id: 'n', file: 'index.ts', name: 'n' }],
    });
    const n = await glean.reloadAndWatch<() => number>('n');
    expect(await n()).toBe(0);
    const seen = new Map<number, string>();
    let most = 0;
    const look = (): void => {
      const now = childProcesses();
      most = Math.max(most, now.length);
      for (const pid of now) seen.set(pid, commandOf(pid));
    };
    look();
    for (let i = 1; i <= 50; i++) {
      await temp.write('index.ts', plugin(i));
      await glean.reloadConfig();
      expect(await n()).toBe(i);
      look();
    }
    expect(most).toBeLessThanOrEqual(1);
    // What ran is esbuild's service, nothing else.
    for (const command of seen.values()) expect(command).toMatch(/esbuild/);
    await glean.close();
    await until(() => childProcesses().length === 0, `no child process after close() (now ${childProcesses()})`);
    // About 8 s alone; beside the rest of the suite on two cores, 50 versions took 33 s.
  }, 90_000);
});
