/**
 * The OpenTelemetry example, run as `npm run example:opentelemetry` runs it (node
 * examples/opentelemetry/main.mjs, in a process of its own): each call of its Glean becomes a span
 * named for the id, with the FaaS attributes, a cold start on a thread's first answer, the error of a
 * refused call, and the application's active span as its parent.
 */
import type { Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { RetireEvent } from '@glean/core';
import { REPO, startExample } from './helpers/example.js';
import { nextEvent } from './helpers/index.js';
import { startGlean } from './helpers/glean.js';

interface SpanLine {
  name: string;
  traceId: string;
  spanId: string;
  parent: string | null;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: string[];
  durationMs: number;
}

/** Runs the example to its end; rejects unless it exits 0 within 20 s. */
async function runExample(): Promise<{ stdout: string; stderr: string }> {
  const example = startExample('examples/opentelemetry/main.mjs');
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the example ran over 20 s:\n${example.stdout()}\n${example.stderr()}`)),
      20_000,
    );
  });
  try {
    const code = await Promise.race([example.exited, overrun]);
    if (code !== 0) throw new Error(`the example exited ${code}:\n${example.stdout()}\n${example.stderr()}`);
    return { stdout: example.stdout(), stderr: example.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

describe('examples/opentelemetry', () => {
  it("makes a span of each call, with FaaS attributes, a cold start, the refusal's error, under the caller's span", async () => {
    const { stdout, stderr } = await runExample();
    expect(stderr).toBe('Hello, OpenTelemetry\nHello, again\nrefused: E_NO_NAME\n');
    const spans = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SpanLine);
    expect(spans.map(({ name }) => name)).toEqual(['Greet', 'Greet', 'Greet', 'request']);
    const request = spans[3]!;
    const calls = spans.slice(0, 3);
    for (const span of calls) {
      expect(span.traceId).toBe(request.traceId);
      expect(span.parent).toBe(request.spanId);
      expect(span.attributes).toMatchObject({
        'faas.name': 'Greet',
        'faas.version': '1.0',
        'faas.trigger': 'other',
        'glean.export': 'greet',
        'glean.canary': false,
        'glean.file': `${REPO}examples/opentelemetry/plugins/greet.mjs`,
      });
      expect(span.attributes['glean.thread_id']).toEqual(expect.any(Number));
      expect(span.durationMs).toBeGreaterThan(0);
    }
    expect(new Set(calls.map(({ attributes }) => attributes['faas.invocation_id'])).size).toBe(3);
    // Each thread's first answer is its cold start (the version runs two threads).
    const threads = calls.map(({ attributes }) => attributes['glean.thread_id']);
    expect(calls.map(({ attributes }) => attributes['faas.coldstart'])).toEqual(
      threads.map((thread, i) => threads.indexOf(thread) === i),
    );
    expect(calls[0]!.attributes['faas.coldstart']).toBe(true);
    expect(calls.map(({ status }) => status.code)).toEqual([0, 0, 2]);
    expect(calls[2]).toMatchObject({
      attributes: { 'error.type': 'E_NO_NAME' },
      status: { message: 'greet() needs a name' },
      events: ['exception'],
    });
  });
});

describe('examples/opentelemetry instrumentGlean', () => {
  it("keeps a running thread warm across another id's swap, and a new version's thread starts cold", async () => {
    const instrument = new URL('../examples/opentelemetry/instrument.mjs', import.meta.url).href;
    const { instrumentGlean } = (await import(instrument)) as {
      instrumentGlean: (options: { tracer: Tracer }) => () => void;
    };
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const greeter = (tag: string) => `export function greet() { return '${tag}'; }`;
    const { glean, temp } = await startGlean({
      files: { 'a.mjs': greeter('a'), 'b1.mjs': greeter('b1'), 'b2.mjs': greeter('b2') },
      config: [
        { id: 'A', file: 'a.mjs', name: 'greet' },
        { id: 'B', file: 'b1.mjs', name: 'greet' },
      ],
    });
    const stop = instrumentGlean({ tracer: provider.getTracer('test') });
    try {
      const a = await glean.reloadAndWatch<() => Promise<string>>('A');
      const b = await glean.reloadAndWatch<() => Promise<string>>('B');
      expect([await a(), await b()]).toEqual(['a', 'b1']);
      // B's first version retires: the threads it ran are forgotten, A's stays warm.
      const retired = nextEvent<RetireEvent>(glean, 'retire');
      await temp.write('plugin.json', [
        { id: 'A', file: 'a.mjs', name: 'greet' },
        { id: 'B', file: 'b2.mjs', name: 'greet' },
      ]);
      await glean.reloadConfig();
      await retired;
      expect([await a(), await b()]).toEqual(['a', 'b2']);
    } finally {
      stop();
      await glean.close();
    }
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => [span.name, span.attributes['faas.coldstart']])).toEqual([
      ['A', true],
      ['B', true],
      ['A', false],
      ['B', true],
    ]);
    await provider.shutdown();
  });
});
