/** The repository's examples run as a person runs them: `node <script>` in a process of its own, ended after the test. */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { onCleanup, until } from './index.js';

/** The repository's root folder. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A running example: its process, when it exits, and what it printed. */
export interface Example {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves with its exit code (`null` when a signal ended it). */
  readonly exited: Promise<number | null>;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** stdout and stderr as they came, interleaved. */
  readonly output: () => string;
}

/**
 * Starts `node <script>` (relative to `cwd`, default the repository) with `env` (default this
 * process's). The process is killed (SIGKILL) after the test if it is still running, and waited for.
 */
export function startExample(script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Example {
  const child = spawn(process.execPath, [script], {
    cwd: options.cwd ?? REPO,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    output += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    output += text;
  });
  return { child, exited, stdout: () => stdout, stderr: () => stderr, output: () => output };
}

/** The port the httpserver demo serves on, from the `http://localhost:<port>/foo` line it prints; rejects if it exits first. */
export async function demoPort(demo: Example): Promise<string> {
  let port: string | undefined;
  await until(() => {
    if (demo.child.exitCode !== null)
      throw new Error(`the demo exited with code ${demo.child.exitCode}:\n${demo.output()}`);
    port = /http:\/\/localhost:(\d+)\/foo/.exec(demo.output())?.[1];
    return port !== undefined;
  }, 'the demo to print its URL');
  return port!;
}
