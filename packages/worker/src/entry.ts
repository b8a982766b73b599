/**
 * The worker thread of one plugin version. piscina starts the thread and runs {@link serve} as a
 * single long task; the task lasts as long as this worker serves the version, so piscina's
 * task rejection is glean's signal that the thread died.
 *
 * Plugin code runs in this thread beside glean's runtime and may be hostile. What it can reach, it
 * can break only for its own calls: glean's ports are kept out of `process._getActiveHandles()`,
 * piscina's task port is closed before the plugin loads, replies go through the `postMessage` of
 * Node's own prototype as it was before any plugin ran, and the host checks every message anyway.
 */
import { readlinkSync } from 'node:fs';
import { MessagePort, parentPort, threadId } from 'node:worker_threads';
import { expose, type Endpoint } from 'comlink';
import { threadEnding, trackChildProcesses } from './children.js';
import { startDisposeRegistry } from './dispose.js';
import { runCleanup } from './cleanup.js';
import { describeExport, findExport, importPlugin, installModuleHooks, type PluginModule } from './load.js';
import {
  PROTOCOL_VERSION,
  REPLY_LOG_SIZE,
  describeThrown,
  serializeError,
  transferablesOf,
  type CallMessage,
  type HelloMessage,
  type HostMessage,
  type ControlApi,
  type LoadResult,
  type ReplyMessage,
  type ServeTask,
  type StreamReply,
  type Specials,
  type WireFailure,
} from './protocol.js';
import { WorkerStreams, findStream, type FoundStream } from './stream.js';
import { decodeValue, describeRefusal, encodeValue, isCarried } from './values.js';

/** Taken before any plugin code runs: a plugin that patches these sees none of glean's messages. */
const post = MessagePort.prototype.postMessage;
const closePort = MessagePort.prototype.close;
const apply = Reflect.apply;

/** The piscina task as it arrives: the ports were transferred, so they are real MessagePorts here. */
interface ServeTaskIn extends Pick<ServeTask, 'root' | 'modules'> {
  readonly callPort: MessagePort;
  readonly controlPort: MessagePort;
}

/** Serves one plugin version in this thread for the thread's whole life; the host ends it by destroying the pool. */
export default async function serve(task: ServeTaskIn): Promise<void> {
  const { callPort, controlPort } = task;
  // Before anything of a plugin's can load: its modules come from the host from the first import on.
  const hooksInThread = installModuleHooks(task);
  startDisposeRegistry();
  let file = '';
  let commonJS = false;
  let module: PluginModule | undefined;
  let cleanup: ReturnType<typeof runCleanup> | undefined;

  // Which call each of the latest call-port messages answered (the hello is message 1), for replyAt().
  const replyLog = new Float64Array(REPLY_LOG_SIZE);
  let posted = 0;
  const send = (
    message: HelloMessage | ReplyMessage | StreamReply,
    id: number,
    transfer?: readonly unknown[],
  ): void => {
    apply(post, callPort, transfer === undefined ? [message] : [message, transfer]);
    posted++;
    replyLog[posted % REPLY_LOG_SIZE] = id;
  };

  const reply = (id: number, value: unknown): void => {
    let stream: FoundStream | undefined;
    try {
      stream = findStream(value);
    } catch (error) {
      fail(id, {
        reason: 'not-cloneable',
        message: `the result cannot be copied to the host: ${describeThrown(error)}`,
      });
      return;
    }
    if (stream !== undefined) {
      openStream(id, stream);
      return;
    }
    // What structured clone would change is encoded (a URL, a Buffer, an Error…) or refused with its place.
    const encoding = encodeValue(value, 'result');
    if (encoding !== undefined && 'refused' in encoding) {
      fail(id, { reason: 'not-cloneable', message: describeRefusal(encoding.refused, 'cannot be copied to the host') });
      return;
    }
    try {
      const moved = transferablesOf(value);
      send(encoding === undefined ? [id, value] : [id, encoding.value, encoding.specials], id, moved);
    } catch (error) {
      // A value that cannot be copied all the same (a Proxy, a MessagePort not transferred), or whose getters throw while it is: this call fails alone.
      fail(id, {
        reason: 'not-cloneable',
        message: `the result cannot be copied to the host: ${describeThrown(error)}`,
      });
    }
  };

  const fail = (id: number, failure: WireFailure, specials?: Specials): void => {
    try {
      send(
        specials === undefined
          ? { type: 'error', id, error: failure }
          : { type: 'error', id, error: failure, specials },
        id,
      );
    } catch (error) {
      // An error property that could be cloned alone but not with the rest: say so without it.
      send(
        {
          type: 'error',
          id,
          error: {
            reason: 'not-cloneable',
            message: `the error cannot be copied to the host: ${describeThrown(error)}`,
          },
        },
        id,
      );
    }
  };

  // A thrown error keeps what a returned one keeps: the properties the value table carries, encoded as a result's are.
  const threw = (id: number, thrown: unknown): void => {
    const failure: WireFailure = { reason: 'thrown', error: serializeError(thrown, 0, isCarried) };
    const encoding = encodeValue(failure, 'error');
    if (encoding === undefined || 'refused' in encoding) fail(id, failure);
    else fail(id, encoding.value as WireFailure, encoding.specials);
  };

  // Results that are async iterables stream, as far as the host pulls (stream.ts).
  const streams = new WorkerStreams({ send, fail, threw });
  const openStream = (id: number, stream: FoundStream): void => {
    let refused: string | undefined;
    try {
      refused = streams.open(id, stream);
    } catch (error) {
      refused = `the result cannot be copied to the host: ${describeThrown(error)}`;
    }
    if (refused !== undefined) fail(id, { reason: 'not-cloneable', message: refused });
  };

  // The module never changes inside a worker: resolve each export (and method) once.
  const callables = new Map<string, Callable | string>();
  // Call ids are consecutive in the order the host posts them: the message after call n is call n + 1.
  let lastCallId = 0;
  const onCall = (message: HostMessage): void => {
    // Calls are tuples; a stream's pull or cancel is an object (stream.ts).
    if (!Array.isArray(message)) {
      streams.control(message as Exclude<HostMessage, CallMessage>);
      return;
    }
    const call = message as CallMessage;
    const [id, name, member] = call;
    let args = call[3];
    lastCallId = id;
    // Ending while its child processes end (children.ts): the host rejects this call when the thread is gone.
    if (threadEnding()) return;
    if (call.length === 5) {
      try {
        args = decodeValue(args, call[4]) as unknown[];
      } catch (error) {
        fail(id, {
          reason: 'not-cloneable',
          message: `the arguments cannot be read in the worker: ${describeThrown(error)}`,
        });
        return;
      }
    }
    const key = member === null ? name : `${name}\0${member}`;
    let target = callables.get(key);
    if (target === undefined) {
      try {
        target = resolveCallable(module, name, member, commonJS);
      } catch (error) {
        threw(id, error);
        return;
      }
      if (typeof target !== 'string') callables.set(key, target);
    }
    if (typeof target === 'string') {
      fail(id, { reason: 'not-found', message: target });
      return;
    }
    let result: unknown;
    try {
      result = apply(target.fn, target.self, args);
    } catch (error) {
      threw(id, error);
      return;
    }
    let then: unknown;
    try {
      then =
        result !== null && (typeof result === 'object' || typeof result === 'function')
          ? (result as { then?: unknown }).then
          : undefined;
    } catch (error) {
      // A getter or a Proxy trap that throws as glean looks at the result: a result that cannot be carried.
      fail(id, {
        reason: 'not-cloneable',
        message: `the result cannot be copied to the host: looking up its "then" threw ${describeThrown(error)}`,
      });
      return;
    }
    if (typeof then === 'function') {
      // Promise.resolve takes one outcome of a thenable however often it calls back, and turns a throwing `then` into a rejection.
      Promise.resolve(result).then(
        (value) => reply(id, value),
        (error: unknown) => threw(id, error),
      );
    } else {
      reply(id, result);
    }
  };
  const onUnreadableCall = (): void => {
    lastCallId++;
    fail(lastCallId, {
      reason: 'not-cloneable',
      message: 'the arguments could not be read in the worker (nested too deeply for its stack?)',
    });
  };

  const control: ControlApi = {
    prepare() {},
    async load(path, isCommonJS, names, env): Promise<LoadResult> {
      if (module !== undefined && path !== file) {
        const message = `this worker already serves ${file}`;
        return { ok: false, failure: { reason: 'load-failed', message, error: serializeError(new Error(message)) } };
      }
      if (module === undefined) resetEnv(env);
      file = path;
      commonJS = isCommonJS === true;
      try {
        module ??= await importPlugin(file);
      } catch (error) {
        return {
          ok: false,
          failure: {
            reason: 'load-failed',
            message: `cannot import ${file}: ${describeThrown(error)}`,
            error: serializeError(error),
          },
        };
      }
      return { ok: true, descriptions: names.map((name) => describeExport(module!, name, commonJS)) };
    },
    describe(name) {
      if (module === undefined) throw new Error('describe() before load()');
      return describeExport(module, name, commonJS);
    },
    ping: () => Date.now(),
    dispose() {
      cleanup ??= runCleanup(module, commonJS);
      return cleanup;
    },
    replyAt(seq) {
      return Number.isSafeInteger(seq) && seq > 0 && seq <= posted && posted - seq < REPLY_LOG_SIZE
        ? replyLog[seq % REPLY_LOG_SIZE]
        : undefined;
    },
  };

  closeForeignPorts(callPort, controlPort);
  closeTogether(callPort, controlPort);
  reportChildProcesses(controlPort, hooksInThread);
  callPort.on('message', onCall);
  callPort.on('messageerror', onUnreadableCall);
  // First word on the call port: the serve task runs, in this thread, speaking this protocol (the host checks both).
  send({ type: 'hello', threadId, protocol: PROTOCOL_VERSION }, 0);
  expose(control, guardedEndpoint(controlPort));
  // Listening ports keep a thread alive and are listed by process._getActiveHandles(); an interval keeps it alive unlisted.
  callPort.unref();
  controlPort.unref();
  parentPort?.unref();
  setInterval(() => {}, 2 ** 30);
  // Never settles: piscina rejecting this task when the thread ends is how the host learns of it.
  await new Promise<never>(() => {});
}

/**
 * Before any plugin code runs: tells the host this thread's OS thread id, then each child process
 * plugin code starts here, so the host can end them when this thread cannot (see children.ts).
 * `lazy`: the module hooks run in this thread, and tell children.ts when to start tracking.
 */
function reportChildProcesses(controlPort: MessagePort, lazy: boolean): void {
  let tid = 0;
  try {
    // "<pid>/task/<tid>": the thread that forks a child is its parent task in /proc.
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    // No /proc (not Linux): 0, and the host, which cannot check a report, takes none.
  }
  // Always posted, and first: the host takes the first thread report alone, so plugin code cannot post one in its place.
  if (!Number.isSafeInteger(tid) || tid < 0) tid = 0;
  apply(post, controlPort, [{ type: 'thread', tid }]);
  trackChildProcesses(tid, (pid) => apply(post, controlPort, [{ type: 'child', pid }]), lazy);
}

/**
 * Closes every listening port of this thread but glean's two and the parent port: that is piscina's
 * task port, which the serve task never answers on, and whose host side would throw on a message
 * that is not a task result. Closed, nothing can post on it.
 */
function closeForeignPorts(...ours: readonly MessagePort[]): void {
  const active = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  for (const handle of active) {
    if (handle instanceof MessagePort && handle !== parentPort && !ours.includes(handle)) handle.close();
  }
}

/**
 * When plugin code closes one of glean's two ports, or moves it away (`postMessage(x, [port])` to a
 * channel of its own), the other is closed too. A port moved away stays open at the host's end, and
 * nothing answers there any more: its 'close' in this thread is the only sign of it, and the host
 * learns of it from the other port closing, which it takes for the breach it is (slot.ts,
 * `#onPortClosed`). Closed through Node's own method, as it was before any plugin ran.
 */
function closeTogether(callPort: MessagePort, controlPort: MessagePort): void {
  const closeOther = (other: MessagePort) => (): void => {
    try {
      apply(closePort, other, []);
    } catch {
      // Moved away already, or closed: nothing to close here.
    }
  };
  callPort.once('close', closeOther(controlPort));
  controlPort.once('close', closeOther(callPort));
}

/**
 * The control port as comlink's endpoint, posting through the saved `postMessage`. comlink's
 * listeners get `{ data }` through the port's `on('message')`, not its `addEventListener`: a
 * `message` listener of the EventTarget kind makes Node 24 build a `MessageEvent` for the first
 * message, which loads undici into the thread, about 45 ms of CPU in every worker (bench/graph.mjs).
 */
function guardedEndpoint(port: MessagePort): Endpoint {
  const on = port.on.bind(port);
  const off = port.off.bind(port);
  const adapters = new Map<unknown, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: unknown[]) =>
      apply(post, port, transfer === undefined ? [message] : [message, transfer]),
    addEventListener: (type: string, listener: unknown) => {
      if (type !== 'message' || typeof listener !== 'function' || adapters.has(listener)) return;
      const adapter = function controlMessage(data: unknown): void {
        (listener as (event: { data: unknown }) => void)({ data });
      };
      adapters.set(listener, adapter);
      on('message', adapter);
    },
    removeEventListener: (type: string, listener: unknown) => {
      const adapter = adapters.get(listener);
      if (type !== 'message' || adapter === undefined) return;
      adapters.delete(listener);
      off('message', adapter);
    },
  };
}

/** Makes `process.env` exactly `env`: a thread started ahead of time took the host's variables of then. */
function resetEnv(env: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(process.env)) if (!Object.hasOwn(env, name)) delete process.env[name];
  Object.assign(process.env, env);
}

interface Callable {
  readonly fn: (...args: unknown[]) => unknown;
  readonly self: unknown;
}

/** The function a call names, or a message saying why there is none. May throw for a hostile export (a Proxy). */
function resolveCallable(
  module: PluginModule | undefined,
  name: string,
  member: string | null,
  commonJS: boolean,
): Callable | string {
  if (module === undefined) return 'the plugin is not loaded in this worker';
  const found = findExport(module, name, commonJS);
  const exported = found.found ? found.value : undefined;
  if (member === null) {
    return typeof exported === 'function'
      ? { fn: exported as Callable['fn'], self: undefined }
      : `export "${name}" is not a function`;
  }
  const method = (exported as Record<string, unknown> | null | undefined)?.[member];
  return typeof method === 'function'
    ? { fn: method as Callable['fn'], self: exported }
    : `export "${name}" has no method "${member}"`;
}
