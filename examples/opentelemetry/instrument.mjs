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
import { tracingChannel } from 'node:diagnostics_channel';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** Where a call's span is kept on glean's context object: a key of our own. */
const SPAN = Symbol('opentelemetry span');

/**
 * Subscribes to `glean.call` and makes a span of every call with `tracer` (default: the global
 * tracer provider's `glean` tracer). Returns the function that unsubscribes.
 */
export function instrumentGlean({ tracer = trace.getTracer('glean') } = {}) {
  // The worker threads that answered a call already: a thread's first answer is its cold start.
  const warm = new Set();
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
        span.setAttribute('faas.coldstart', !warm.has(call.threadId));
        warm.add(call.threadId);
      }
      span.end();
    },
  };
  // Unused phases are not subscribed: each costs a call per event.
  calls.start.subscribe(subscribers.start);
  calls.error.subscribe(subscribers.error);
  calls.asyncEnd.subscribe(subscribers.asyncEnd);
  return () => {
    calls.start.unsubscribe(subscribers.start);
    calls.error.unsubscribe(subscribers.error);
    calls.asyncEnd.unsubscribe(subscribers.asyncEnd);
  };
}
