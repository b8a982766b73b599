/**
 * The host's ends of a worker's two module channels: every request is untrusted input, checked
 * field by field, answered by the graph of the version the worker serves, and signalled so the
 * worker, blocked on it, wakes (see @glean/worker's module-channel.ts). A glean worker asks one thing
 * at a time per channel, numbered 1, 2, 3…: a request that comes while one is answered, or out of
 * that order, is a breach, so plugin code that reaches a port cannot queue answers by the thousand.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  checkModuleRequest,
  describeValue,
  type ModuleAnswer,
  type ModuleChannelEnd,
  type ModuleRequest,
} from '@glean/worker/protocol';
import { ErrorCode, type GleanError } from '../errors.js';
import { ModulesGiven } from './ahead.js';
import type { ModuleGraph } from './graph.js';

/** A worker's module channels, host side. */
export class ModulePorts {
  /** The worker's ends, for its serve task (transfer {@link ModulePorts.transfer} with them). */
  readonly task: readonly [ModuleChannelEnd, ModuleChannelEnd];
  readonly transfer: readonly MessagePort[];
  readonly #ports: MessagePort[] = [];
  readonly #onBreach: (what: string) => void;
  #graph: ModuleGraph | undefined;
  #refusal: GleanError | undefined;
  /** What this worker has of its graph, over both channels: kept for the thread's life, as Node keeps the modules it loaded. */
  readonly #given = new ModulesGiven();

  /** `onBreach`: the worker sent what no glean worker sends; the slot ends it. */
  constructor(onBreach: (what: string) => void) {
    this.#onBreach = onBreach;
    const ends: ModuleChannelEnd[] = [];
    for (let i = 0; i < 2; i++) {
      const { port1, port2 } = new MessageChannel();
      const signal = new SharedArrayBuffer(4);
      const view = new Int32Array(signal);
      const channel = { port: port1, view, next: 1, busy: false };
      port1.on('message', (message: unknown) => this.#onRequest(channel, message));
      port1.on('messageerror', () => this.#onBreach('sent a module request the host cannot read'));
      // Nothing here keeps the host alive: the slot's own ports do while it lives.
      port1.unref();
      this.#ports.push(port1);
      ends.push({ port: port2, signal });
    }
    this.task = ends as unknown as readonly [ModuleChannelEnd, ModuleChannelEnd];
    this.transfer = ends.map((end) => end.port as MessagePort);
  }

  /** From now on, requests are answered from `graph`: the version this worker loads. */
  serve(graph: ModuleGraph): void {
    this.#graph = graph;
    this.#refusal = undefined;
  }

  /** The first module this worker was refused since {@link ModulePorts.serve} (outside the root, integrity), to report as the load's failure. */
  get refusal(): GleanError | undefined {
    return this.#refusal;
  }

  /** Closes the host's ends: the worker ended. */
  close(): void {
    for (const port of this.#ports) port.close();
  }

  #onRequest(channel: Channel, message: unknown): void {
    const request = checkModuleRequest(message);
    if (request === undefined) {
      this.#onBreach(`sent a malformed module request: ${describeValue(message)}`);
      return;
    }
    if (channel.busy || request.seq !== channel.next) {
      this.#onBreach(
        channel.busy
          ? `sent module request ${request.seq} while request ${channel.next - 1} was being answered`
          : `sent module request ${request.seq} where ${channel.next} was next`,
      );
      return;
    }
    channel.busy = true;
    channel.next++;
    const graph = this.#graph;
    const answering: Promise<ModuleAnswer> =
      graph === undefined
        ? Promise.resolve({
            seq: request.seq,
            error: { code: ErrorCode.LOAD_FAILED, message: 'no plugin version is loading in this worker' },
          })
        : graph.answer(request, this.#given);
    void answering.then((answer) => this.#send(channel, request, answer));
  }

  #send(channel: Channel, request: ModuleRequest, answered: ModuleAnswer & { readonly refusal?: GleanError }): void {
    channel.busy = false;
    const { refusal, ...answer } = answered;
    this.#refusal ??= refusal;
    // A port closed meanwhile (the worker ended) drops the answer: nothing waits for it either.
    channel.port.postMessage(answer);
    Atomics.store(channel.view, 0, request.seq);
    Atomics.notify(channel.view, 0);
  }
}

/** One module channel, host side: its port, its signal, and where its requests are. */
interface Channel {
  readonly port: MessagePort;
  readonly view: Int32Array;
  /** The `seq` the next request must carry. */
  next: number;
  /** A request is being answered. */
  busy: boolean;
}
