/**
 * A Glean over files a test writes: `startGlean()` for one test (closed after it), `sharedGlean()`
 * for every test of a describe (closed after the last), `gleanOver()` for a config already on disk.
 * All default to `watch: false` and `logger: false`, so a test depends only on what it does.
 */
import { afterAll, beforeAll } from 'vitest';
import { Glean, type GleanOptions } from '@glean/core';
import { onCleanup, ownedTempDir, tempDir, threadCount, type Entry, type TempDir } from './index.js';

/** What a test says about the Glean it starts; every GleanOptions key is passed on. */
export interface StartGleanOptions extends GleanOptions {
  /** The folder to write into. Default: a fresh tempDir(). */
  temp?: TempDir;
  /** Files written into the folder first: relative path → content. */
  files?: Record<string, string>;
  /**
   * The config written to `configName`: entries (as JSON), any other JSON value (`{ defaults, plugins }`),
   * or a string written as it is. Omit it with `configPath`.
   */
  config?: readonly Entry[] | object | string;
  /** The config file's name in the folder. Default: `plugin.json`. */
  configName?: string;
  /** A config already on disk (a ConfigMap link, a FIFO…), instead of `config`. */
  configPath?: string;
  /** Whether to await loadConfig() before returning. Default: true. */
  load?: boolean;
}

/** A started Glean and where it lives. */
export interface StartedGlean {
  readonly glean: Glean;
  readonly temp: TempDir;
  readonly configPath: string;
  /** OS threads of this process just before the Glean was made. */
  readonly baseline: number;
}

/** Splits the test's options from the Glean's, with the test defaults. */
function gleanOptionsOf(options: StartGleanOptions): GleanOptions {
  const {
    temp: _temp,
    files: _files,
    config: _config,
    configName: _name,
    configPath: _path,
    load: _load,
    ...rest
  } = options;
  return { watch: false, logger: false, ...rest };
}

/** Writes `files` and the config into `temp`; returns the config's path. */
async function writeSetup(temp: TempDir, options: StartGleanOptions): Promise<string> {
  for (const [name, content] of Object.entries(options.files ?? {})) await temp.write(name, content);
  if (options.configPath !== undefined) {
    if (options.config !== undefined) throw new Error('startGlean: pass config or configPath, not both');
    return options.configPath;
  }
  if (options.config === undefined) throw new Error('startGlean: pass config or configPath');
  return temp.write(options.configName ?? 'plugin.json', options.config);
}

/** A Glean over `configPath` with the test defaults (`watch: false, logger: false`), closed after the test; not loaded. */
export function gleanOver(configPath: string, options: GleanOptions = {}): Glean {
  const glean = new Glean(configPath, { watch: false, logger: false, ...options });
  onCleanup(() => glean.close());
  return glean;
}

/**
 * Writes `files` and `config` into a folder (a fresh one unless `temp`), makes a Glean over it with
 * `watch: false, logger: false` unless the options say otherwise, registers its close() to run after
 * the test (before the folder is removed), and awaits loadConfig() unless `load: false`.
 */
export async function startGlean(options: StartGleanOptions): Promise<StartedGlean> {
  const temp = options.temp ?? (await tempDir());
  const configPath = await writeSetup(temp, options);
  const baseline = threadCount();
  const glean = gleanOver(configPath, gleanOptionsOf(options));
  if (options.load !== false) await glean.loadConfig();
  return { glean, temp, configPath, baseline };
}

/**
 * One loaded Glean for every test of the calling describe (or file): writes `files` and `config` to a
 * fresh folder before the first test; closes the Glean, then removes the folder, after the last.
 * Call it where describe bodies run; its fields can be read from the first beforeAll on.
 */
export function sharedGlean(options: Omit<StartGleanOptions, 'temp' | 'load'>): StartedGlean {
  let started: StartedGlean | undefined;
  let remove: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const owned = await ownedTempDir();
    remove = owned.remove;
    const configPath = await writeSetup(owned.temp, options);
    const baseline = threadCount();
    const glean = new Glean(configPath, gleanOptionsOf(options));
    started = { glean, temp: owned.temp, configPath, baseline };
    await glean.loadConfig();
  });
  afterAll(async () => {
    try {
      await started?.glean.close();
    } finally {
      await remove?.();
    }
  });
  const get = (): StartedGlean => {
    if (started === undefined) throw new Error('sharedGlean() starts in beforeAll: read it from a hook or a test');
    return started;
  };
  return {
    get glean() {
      return get().glean;
    },
    get temp() {
      return get().temp;
    },
    get configPath() {
      return get().configPath;
    },
    get baseline() {
      return get().baseline;
    },
  };
}
