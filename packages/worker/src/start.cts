/**
 * What piscina loads in every glean worker thread: a CommonJS file that import()s the ES entry.
 *
 * piscina require()s its `filename` first. On Node 20.19+, require() of an ES module is allowed, and
 * a worker terminated while such a require() is still evaluating can abort the whole process (a V8
 * fatal error). A CommonJS file is required the ordinary way, and the ES entry then loads through
 * import(), which a termination interrupts cleanly. The alternative, `--no-experimental-require-module`
 * in the workers' `execArgv`, forces an explicit `execArgv`, which Node refuses when the host runs with
 * per-process flags such as `--max-old-space-size` or `--expose-gc` (ERR_WORKER_INVALID_EXEC_ARGV).
 */
import type { ServeTask } from './protocol.js';

/** dist/worker.js: runtime.ts bundled into one module by `npm run build` (scripts/bundle-worker.mjs). */
const RUNTIME = './worker.js';

let serve: Promise<(task: ServeTask) => Promise<void>> | undefined;

module.exports = async function start(task: ServeTask): Promise<void> {
  serve ??= (import(RUNTIME) as Promise<typeof import('./runtime.js')>).then(
    (entry) => entry.default as unknown as (task: ServeTask) => Promise<void>,
  );
  return (await serve)(task);
};
