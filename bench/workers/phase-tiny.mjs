/** The least a worker can be: posts, once evaluated, when its environment, bootstrap and module evaluation happened. */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

const evaluatedAt = performance.timeOrigin + performance.now();
const { environment, bootstrapComplete } = performance.nodeTiming;
parentPort.postMessage({
  environment: performance.timeOrigin + environment,
  bootstrapComplete: performance.timeOrigin + bootstrapComplete,
  evaluatedAt,
});
