/**
 * The worker thread of one plugin version. piscina starts the thread and runs {@link serve} as a
 * single long task; the task lasts as long as this worker serves the version, so piscina's
 * task rejection is glean's signal that the thread died.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import { expose, type Endpoint } from 'comlink';
import { describeExport, findExport, importPlugin, isCommonJS, pinSources, prepareTypeScript, type PluginModule } from './load.js';
import {
  PROTOCOL_VERSION,
  findUncloneable,
  serializeError,
  transferablesOf,
  type CallMessage,
  type HelloMessage,
  type ControlApi,
  type LoadResult,
  type ReplyMessage,
  type ResultMessage,
  isResult,
  type WireFailure,
} from './protocol.js';

/** The piscina task as it arrives: the ports were transferred, so they are real MessagePorts here. */
interface ServeTaskIn {
  readonly protocol: number;
  readonly callPort: MessagePort;
  readonly controlPort: MessagePort;
}

/** Serves one plugin version in this thread for the thread's whole life; the host ends it by destroying the pool. */
export default async function serve(task: ServeTaskIn): Promise<void> {
  const { callPort, controlPort } = task;
  let file = '';
  let commonJS = false;
  let module: PluginModule | undefined;

  const reply = (message: ReplyMessage): void => {
    const result = isResult(message) ? message : undefined;
    try {
      const moved = result === undefined ? undefined : transferablesOf(result[1]);
      if (moved === undefined) callPort.postMessage(message);
      else callPort.postMessage(message, moved as never);
    } catch (error) {
      const where = result === undefined ? undefined : findUncloneable(result[1], 'result');
      const failure: WireFailure = {
        reason: 'not-cloneable',
        message: `${where ?? 'the reply'} cannot be copied to the host: ${(error as Error).message}`,
      };
      const id = result === undefined ? (message as Exclude<ReplyMessage, ResultMessage>).id : result[0];
      callPort.postMessage({ type: 'error', id, error: failure } satisfies ReplyMessage);
    }
  };

  const fail = (id: number, thrown: unknown): void => {
    reply({ type: 'error', id, error: { reason: 'thrown', error: serializeError(thrown) } });
  };

  // The module never changes inside a worker: resolve each export (and method) once.
  const callables = new Map<string, Callable | string>();
  const onCall = ([id, name, member, args]: CallMessage): void => {
    const key = member === null ? name : `${name}\0${member}`;
    let target = callables.get(key);
    if (target === undefined) {
      target = resolveCallable(module, name, member, commonJS);
      if (typeof target !== 'string') callables.set(key, target);
    }
    if (typeof target === 'string') {
      reply({ type: 'error', id, error: { reason: 'not-found', message: target, available: [] } });
      return;
    }
    let result: unknown;
    try {
      result = Reflect.apply(target.fn, target.self, args);
    } catch (error) {
      fail(id, error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => reply([id, value]),
        (error: unknown) => fail(id, error),
      );
    } else {
      reply([id, result]);
    }
  };

  const control: ControlApi = {
    async prepare({ typescript, pinned }) {
      if (pinned) pinSources();
      if (typescript) await prepareTypeScript();
    },
    async load(path, source, names): Promise<LoadResult> {
      if (task.protocol !== PROTOCOL_VERSION) {
        const message = `the worker runtime speaks protocol ${PROTOCOL_VERSION}, the host ${task.protocol}: install matching @glean/core and @glean/worker`;
        return { ok: false, failure: { reason: 'protocol-mismatch', message } };
      }
      if (module !== undefined && path !== file) {
        const message = `this worker already serves ${file}`;
        return { ok: false, failure: { reason: 'load-failed', message, error: serializeError(new Error(message)) } };
      }
      file = path;
      commonJS = isCommonJS(file);
      try {
        module ??= await importPlugin(file, source);
      } catch (error) {
        return {
          ok: false,
          failure: { reason: 'load-failed', message: `cannot import ${file}: ${(error as Error)?.message ?? String(error)}`, error: serializeError(error) },
        };
      }
      return { ok: true, protocol: PROTOCOL_VERSION, descriptions: names.map((name) => describeExport(module!, name, commonJS)) };
    },
    describe(name) {
      if (module === undefined) throw new Error('describe() before load()');
      return describeExport(module, name, commonJS);
    },
    ping: () => Date.now(),
  };

  callPort.on('message', onCall);
  // First word on the call port: which thread this is, so the host can watch it exit.
  callPort.postMessage({ type: 'hello', threadId } satisfies HelloMessage);
  expose(control, controlPort as unknown as Endpoint);
  // Never settles: piscina rejecting this task when the thread ends is how the host learns of it.
  await new Promise<never>(() => {});
}

interface Callable {
  readonly fn: (...args: unknown[]) => unknown;
  readonly self: unknown;
}

/** The function a call names, or a message saying why there is none. */
function resolveCallable(module: PluginModule | undefined, name: string, member: string | null, commonJS: boolean): Callable | string {
  if (module === undefined) return 'the plugin is not loaded in this worker';
  const found = findExport(module, name, commonJS);
  const exported = found.found ? found.value : undefined;
  if (member === null) {
    return typeof exported === 'function' ? { fn: exported as Callable['fn'], self: undefined } : `export "${name}" is not a function`;
  }
  const method = (exported as Record<string, unknown> | null | undefined)?.[member];
  return typeof method === 'function' ? { fn: method as Callable['fn'], self: exported } : `export "${name}" has no method "${member}"`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
