/**
 * Traces of glean's calls in OpenTelemetry: instrument.mjs turns the `glean.call` channel into
 * spans with @opentelemetry/api; this file is the application's side, an SDK (here
 * @opentelemetry/sdk-trace-base with an in-memory exporter, and the async context manager; in production an OTLP exporter and a
 * batch processor) and a Glean whose calls it traces. Run it with `npm run example:opentelemetry`:
 * it prints one JSON line per span, then exits.
 */
import { fileURLToPath } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Glean } from '@glean/core';
import { instrumentGlean } from './instrument.mjs';

// The active span follows async calls: glean's spans find their parent where the call is made.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
const stop = instrumentGlean();

const glean = new Glean(fileURLToPath(new URL('plugin.json', import.meta.url)), { watch: false });
try {
  await glean.loadConfig();
  const greet = await glean.reloadAndWatch('Greet');
  // Within a span of the application's: glean's spans are its children.
  await trace.getTracer('example').startActiveSpan('request', async (request) => {
    console.error(await greet('OpenTelemetry'));
    console.error(await greet('again'));
    await greet('').catch((error) => console.error(`refused: ${error.code}`));
    request.end();
  });
} finally {
  stop();
  await glean.close();
}

// The exporter forgets its spans at shutdown: read them first.
await provider.forceFlush();
for (const span of exporter.getFinishedSpans()) {
  const [seconds, nanos] = span.duration;
  console.log(
    JSON.stringify({
      name: span.name,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parent: span.parentSpanContext?.spanId ?? null,
      attributes: span.attributes,
      status: span.status,
      events: span.events.map((event) => event.name),
      durationMs: seconds * 1e3 + nanos / 1e6,
    }),
  );
}
await provider.shutdown();
context.disable();
