/** The heap once garbage collection frees nothing more, for a bench process run with --expose-gc. */
import { quiet } from './quiet.mjs';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Waits until the process is idle (work a reload set off in the background, such as a spare thread
 * starting, ends first), then collects until the heap stops shrinking, a turn in between so weak
 * references and finalizers run; resolves with `process.memoryUsage()` then.
 */
export async function collectedMemory() {
  await quiet();
  let previous = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    globalThis.gc();
    await turn();
    const { heapUsed } = process.memoryUsage();
    if (i >= 2 && heapUsed >= previous - 1024) break;
    previous = heapUsed;
  }
  return process.memoryUsage();
}
