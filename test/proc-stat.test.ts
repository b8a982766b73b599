/**
 * How glean reads /proc/<pid>/stat to name a process by pid and start time (@glean/worker/proc):
 * the pure parse, and the identity checks that keep a pid given to another process from being
 * signalled.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isRunning, isZombie, parseStat, readStat, treeOf } from '@glean/worker/proc';
import { onCleanup, until } from './helpers/index.js';

const line = (comm: string, state = 'S', ppid = 7, start = 123456): string =>
  `42 (${comm}) ${state} ${ppid} 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 10 18446744073709551615`;

describe('parseStat', () => {
  it('reads pid, state, parent and start time', () => {
    expect(parseStat(line('sleep'))).toEqual({ pid: 42, ppid: 7, state: 'S', startTime: 123456 });
  });

  it('reads them past a command name holding spaces and parentheses', () => {
    expect(parseStat(line('a) Z 1 (b', 'Z', 9, 77))).toEqual({ pid: 42, ppid: 9, state: 'Z', startTime: 77 });
  });

  it.each(['', 'garbage', '42 (x)', '42 (x) S notanumber'])('refuses %j', (text) => {
    expect(parseStat(text)).toBeUndefined();
  });
});

describe('a process named by pid and start time', () => {
  it('is running until it ends, a zombie until reaped, and then neither', async () => {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    onCleanup(() => child.kill('SIGKILL'));
    const stat = readStat(child.pid!)!;
    expect(stat.ppid).toBe(process.pid);
    const identity = { pid: stat.pid, startTime: stat.startTime };
    expect(isRunning(identity)).toBe(true);
    expect(isRunning({ ...identity, startTime: identity.startTime - 1 })).toBe(false);
    expect(treeOf([identity])).toEqual([identity]);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await until(() => !isRunning(identity), 'the child ended');
    await exited;
    expect(isZombie(identity)).toBe(false);
    expect(readStat(identity.pid)?.startTime).not.toBe(identity.startTime);
  });
});
