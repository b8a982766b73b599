/**
 * Bundles the worker runtime after `tsc -b` (npm run build, and @glean/worker's prepack): what a
 * worker thread loads, as one file each, from packages/worker/dist:
 *
 *   dist/worker.js  the serve task and the plugin API (src/runtime.ts), comlink included
 *   dist/hooks.js   the module hooks a hooks thread runs on Node 20 and 22.12–22.14 (src/module-hooks.ts)
 *
 * Node's built-ins stay imports. Loading one module instead of a graph of them is most of what a
 * worker's start costs over a bare Worker's (docs/benchmarks.md, section 7).
 *
 * Each file is written beside its place and renamed over it: a worker starting meanwhile (the
 * packaging test packs the package while other tests start workers) reads the old file or the new
 * one, never half of one.
 */
import { rename, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const dist = new URL('../packages/worker/dist/', import.meta.url);

const { outputFiles } = await build({
  entryPoints: { worker: new URL('runtime.js', dist).pathname, hooks: new URL('module-hooks.js', dist).pathname },
  outdir: dist.pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  logLevel: 'warning',
  write: false,
});
for (const { path, contents } of outputFiles) {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}
