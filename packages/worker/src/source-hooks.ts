/**
 * Module hooks that serve a plugin file from the bytes the host checked, not from disk: registered
 * in a worker whose version pins its bytes (`integrity`), before tsx, so tsx transforms these bytes.
 * They run on Node's hooks thread; the worker hands them each file's bytes over `port` first.
 */
import type { MessagePort } from 'node:worker_threads';

interface SourceMessage {
  readonly url: string;
  readonly source: Uint8Array;
}

const sources = new Map<string, Uint8Array>();

/** Node calls this once, with the port the worker passed to `register`. */
export function initialize({ port }: { port: MessagePort }): void {
  port.on('message', ({ url, source }: SourceMessage) => {
    sources.set(url, source);
    port.postMessage(url);
  });
  port.unref();
}

interface LoadResult {
  format?: string | null | undefined;
  source?: unknown;
  shortCircuit?: boolean;
}

/** Replaces the source of a pinned file; every other module loads as usual. */
export async function load(
  url: string,
  context: { format?: string | null | undefined },
  nextLoad: (url: string, context: { format?: string | null | undefined }) => Promise<LoadResult>,
): Promise<LoadResult> {
  const source = sources.get(url);
  if (source === undefined) return nextLoad(url, context);
  // The next loader decides the format (by extension and package.json type); only its bytes are replaced.
  const loaded = await nextLoad(url, context);
  return { format: loaded.format, source, shortCircuit: true };
}
