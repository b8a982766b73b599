/**
 * prom-client, found where the application's copy is: glean never bundles it, and loads it only
 * when `registerMetrics()` is first called (an optional peer dependency of @glean/core).
 */
import { createRequire } from 'node:module';

/** The prom-client module, as its types say. */
export type PromClient = typeof import('prom-client');

let loaded: PromClient | undefined;

/**
 * The prom-client module the application installed (a peer dependency resolves to the application's
 * own copy). Throws a TypeError saying how to install it when it is missing.
 */
export function promClient(): PromClient {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('prom-client') as PromClient;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new TypeError(
      '@glean/core/metrics needs prom-client, an optional peer dependency of @glean/core that is not installed: run `npm install prom-client` in the application',
      { cause: error },
    );
  }
  return loaded;
}
