/**
 * A worker thread's whole runtime as one module: the serve task (the default export, which
 * `start.cts` runs) and the API a plugin imports as `@glean/worker` (`onDispose`, `transfer`).
 * `npm run build` bundles it, with comlink, into `dist/worker.js` (scripts/bundle-worker.mjs): a
 * thread then loads one file instead of fifteen, about 15 ms less CPU per worker start
 * (docs/benchmarks.md, section 7), and every `import '@glean/worker'` of a plugin's is given that
 * same file, so what it registers is what the serve task runs.
 */
export { default } from './entry.js';
export * from './index.js';
