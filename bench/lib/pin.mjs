/**
 * `--pin`: runs the benchmark again under `taskset -c 0`, so the host thread and every worker
 * share one CPU. That shows what a call costs when the threads cannot run side by side, as on a
 * busy or single-core machine.
 */
import { spawn, spawnSync } from 'node:child_process';

/** Set in the child so it knows it is the pinned run and does not re-exec again. */
const PINNED_ENV = 'GLEAN_BENCH_PINNED';

/** `true` in the re-executed child. */
export const isPinnedChild = () => process.env[PINNED_ENV] === '1';

const hasTaskset = () => spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Re-runs this script under `taskset -c 0` with the same arguments, and resolves with the child's
 * exit code. Resolves `undefined` (and says so) when `taskset` is missing: the caller then runs unpinned.
 */
export async function runPinned(log) {
  if (!hasTaskset()) {
    log('--pin: taskset not found; running unpinned');
    return undefined;
  }
  log('--pin: re-running under `taskset -c 0` (host and workers on CPU 0)');
  const child = spawn('taskset', ['-c', '0', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [PINNED_ENV]: '1' },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // A child killed by a signal has no code; report it as a failure.
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
