/**
 * glean's `glean.call` tracing channel as OpenTelemetry spans, written against `@opentelemetry/api`
 * alone: the SDK, its exporter and its sampler are the application's choice (main.mjs sets up one).
 *
 * Each handle call becomes one span, named for the id (and the method of an object export), with
 * the FaaS semantic conventions' attributes where they fit: `faas.name` (the id), `faas.version`,
 * `faas.invocation_id`, `faas.coldstart` (the first call a version's worker thread answers) and
 * `faas.trigger`; glean's own as `glean.*`. Its duration is the invocation's, from the call to its
 * settling. The span's parent is whatever span is active where the call is made.
 */
import { randomUUID } from 'node:crypto';
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** Where a call's span is kept on glean's context object: a key of our own. */
const SPAN = Symbol('opentelemetry span');

/** The worker threads of `glean`'s running versions, stable and canary, from its `status()`. */
function liveThreads(glean) {
  const live = new Set();
  for (const entry of Object.values(glean.status())) {
    for (const { threadId } of entry.threads) live.add(threadId);
    for (const { threadId } of entry.canary?.threads ?? []) live.add(threadId);
  }
  return live;
}

/**
 * Subscribes to `glean.call` and makes a span of every call with `tracer` (default: the global
 * tracer provider's `glean` tracer). Returns the function that unsubscribes.
 */
export function instrumentGlean({ tracer = trace.getTracer('glean') } = {}) {
  // The worker threads that answered a call already, by Glean: a thread's first answer is its cold
  // start. A retirement forgets the threads no version runs any more (ids are never reused), so the
  // set stays as large as the threads running, swap after swap.
  const warmOf = new WeakMap();
  const standalone = new Set();
  const warm = (glean) => {
    if (glean === undefined) return standalone;
    const threads = warmOf.get(glean) ?? new Set();
    warmOf.set(glean, threads);
    return threads;
  };
  const onRetire = ({ glean }) => {
    const threads = warmOf.get(glean);
    if (threads === undefined) return;
    const live = liveThreads(glean);
    for (const threadId of threads) if (!live.has(threadId)) threads.delete(threadId);
  };
  const calls = tracingChannel('glean.call');
  const subscribers = {
    start(call) {
      const name = call.method === null ? call.id : `${call.id}.${call.method}`;
      call[SPAN] = tracer.startSpan(
        name,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'faas.name': call.id,
            'faas.version': call.version ?? '',
            'faas.invocation_id': randomUUID(),
            'faas.trigger': 'other',
            'glean.file': call.file ?? '',
            'glean.export': call.export ?? '',
            ...(call.method === null ? {} : { 'glean.method': call.method }),
            'glean.canary': call.canary,
          },
        },
        context.active(),
      );
    },
    error(call) {
      const span = call[SPAN];
      if (span === undefined) return;
      const { error } = call;
      span.recordException(error instanceof Error ? error : String(error));
      span.setAttribute('error.type', error?.code ?? error?.name ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message });
    },
    asyncEnd(call) {
      const span = call[SPAN];
      if (span === undefined) return;
      if (call.threadId !== null) {
        span.setAttribute('glean.thread_id', call.threadId);
        const threads = warm(call.glean);
        span.setAttribute('faas.coldstart', !threads.has(call.threadId));
        threads.add(call.threadId);
      }
      span.end();
    },
  };
  // Unused phases are not subscribed: each costs a call per event.
  calls.start.subscribe(subscribers.start);
  calls.error.subscribe(subscribers.error);
  calls.asyncEnd.subscribe(subscribers.asyncEnd);
  subscribe('glean.retire', onRetire);
  return () => {
    unsubscribe('glean.retire', onRetire);
    calls.start.unsubscribe(subscribers.start);
    calls.error.unsubscribe(subscribers.error);
    calls.asyncEnd.unsubscribe(subscribers.asyncEnd);
  };
}
