/**
 * The worker's side of a module channel: a synchronous request to the host. Module hooks and
 * `require` are synchronous, so the asker posts its request, then sleeps on the channel's signal
 * (`Atomics.wait`) until the host has posted the answer and written its `seq` there, and takes the
 * answer off the port with `receiveMessageOnPort`. The host's event loop does the work meanwhile.
 */
import { MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { ModuleAnswer, ModuleChannelEnd, ModuleRequest } from './protocol.js';

/** How long a module request waits for the host before the import fails: the host answers in milliseconds unless it is itself stuck. */
export const MODULE_ANSWER_TIMEOUT_MS = 60_000;

/** Taken before any plugin code runs, as in entry.ts. */
const post = MessagePort.prototype.postMessage;
const apply = Reflect.apply;

/** A request without its `seq`, which the channel numbers. */
export type ModuleQuestion = ModuleRequest extends infer R ? (R extends ModuleRequest ? Omit<R, 'seq'> : never) : never;

/** Asks the host over one module channel; one request at a time, as its thread is blocked while it waits. */
export class ModuleChannel {
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  #seq = 0;

  constructor(end: ModuleChannelEnd) {
    this.#port = end.port as MessagePort;
    this.#signal = new Int32Array(end.signal);
    // Never listened to: answers are taken with receiveMessageOnPort, and the port must not hold the thread open.
    this.#port.unref();
  }

  /** Posts `question` and blocks until its answer comes. Throws when the host does not answer within {@link MODULE_ANSWER_TIMEOUT_MS}. */
  ask(question: ModuleQuestion): ModuleAnswer {
    const seq = ++this.#seq;
    apply(post, this.#port, [{ ...question, seq }]);
    const deadline = Date.now() + MODULE_ANSWER_TIMEOUT_MS;
    for (let seen = Atomics.load(this.#signal, 0); seen < seq; seen = Atomics.load(this.#signal, 0)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw moduleError(
          'GLEAN_LOAD_FAILED',
          `glean: the host did not answer a module request within ${MODULE_ANSWER_TIMEOUT_MS} ms`,
        );
      Atomics.wait(this.#signal, 0, seen, Math.min(left, 1000));
    }
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined)
        throw moduleError('GLEAN_LOAD_FAILED', 'glean: the host signalled a module answer that never came');
      const answer = received.message as ModuleAnswer;
      if (answer?.seq === seq) return answer;
    }
  }
}

/** An Error with a `code`, as Node's module errors have: what a module hook throws into the import. */
export function moduleError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
