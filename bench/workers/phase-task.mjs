/** A piscina task file that does nothing but say when its thread started and when it was evaluated. */
import { performance } from 'node:perf_hooks';

const evaluatedAt = performance.timeOrigin + performance.now();
const { environment, bootstrapComplete } = performance.nodeTiming;

export default function timeline() {
  return {
    environment: performance.timeOrigin + environment,
    bootstrapComplete: performance.timeOrigin + bootstrapComplete,
    evaluatedAt,
  };
}
