/** piscina's own model: one task per call, the task being the argument list. */
import { add } from '../fixtures/add.mjs';

export default function addTask(args) {
  return add(...args);
}
