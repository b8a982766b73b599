/** The Glean a bench part drives by hand: a config it writes, no watcher, no logger, errors kept. */
import { writeFile } from 'node:fs/promises';
import { Glean } from '@glean/core';

/** Writes `value` to `path` as a config file (indented JSON, a newline last). */
export function writeJson(path, value) {
  return writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** A Glean over `configPath` with `watch: false` and no logger; `errors` collects its `error` events as `code: message`. */
export function benchGlean(configPath) {
  const glean = new Glean(configPath, { watch: false, logger: false });
  const errors = [];
  glean.on('error', (error) => errors.push(`${error.code}: ${error.message}`));
  return { glean, errors };
}
