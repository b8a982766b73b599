import { optionsKey, pluginOptionsEqual, type PluginOptions } from './config.js';

/** What glean runs for one id: a config entry plus the hash of its file's content. */
export interface PluginSpec {
  /** The stable id. */
  readonly id: string;
  /** Absolute plugin file. */
  readonly file: string;
  /** The export name. */
  readonly name: string;
  /** Free-text version; `''` when absent. */
  readonly version: string;
  /** Effective options. */
  readonly options: Readonly<PluginOptions>;
  /** Hash of the plugin file's content (any stable string). */
  readonly contentHash: string;
}

/** The result of {@link diffPlugins}: every id of either set lands in exactly one list. */
export interface PluginDiff {
  /** In `latest` only; in `latest` order. */
  readonly added: readonly PluginSpec[];
  /** In both, with any of file, name, version, options or contentHash different; in `latest` order. */
  readonly changed: readonly { readonly from: PluginSpec; readonly to: PluginSpec }[];
  /** In `current` only; in `current` order. */
  readonly removed: readonly PluginSpec[];
  /** In both and equal (the `latest` spec); in `latest` order. */
  readonly unchanged: readonly PluginSpec[];
}

/** Compares the running set with the latest, by id (glean's diffPlugins); pure. Throws a TypeError when an id repeats within one set. */
export function diffPlugins(current: Iterable<PluginSpec>, latest: Iterable<PluginSpec>): PluginDiff {
  const running = byId(current, 'current');
  const wanted = byId(latest, 'latest');
  const added: PluginSpec[] = [];
  const changed: { readonly from: PluginSpec; readonly to: PluginSpec }[] = [];
  const unchanged: PluginSpec[] = [];
  for (const [id, to] of wanted) {
    const from = running.get(id);
    if (from === undefined) added.push(to);
    else if (sameSpec(from, to)) unchanged.push(to);
    else changed.push({ from, to });
  }
  const removed = [...running.values()].filter((spec) => !wanted.has(spec.id));
  return { added, changed, removed, unchanged };
}

/** Identity of a plugin version: ids with equal keys share one set of workers (same file, version, options and content; name is not part). */
export function versionKey(spec: PluginSpec): string {
  return JSON.stringify([spec.file, spec.version, spec.contentHash, optionsKey(spec.options)]);
}

function sameSpec(a: PluginSpec, b: PluginSpec): boolean {
  return (
    a.file === b.file &&
    a.name === b.name &&
    a.version === b.version &&
    a.contentHash === b.contentHash &&
    pluginOptionsEqual(a.options, b.options)
  );
}

// A Map keeps insertion order, which is what the lists' order promises.
function byId(specs: Iterable<PluginSpec>, which: string): Map<string, PluginSpec> {
  const map = new Map<string, PluginSpec>();
  for (const spec of specs) {
    // Config validation rejects repeated ids, so a repeat here is a caller bug: silently picking one would hide it.
    if (map.has(spec.id)) throw new TypeError(`diffPlugins: id ${JSON.stringify(spec.id)} appears twice in ${which}`);
    map.set(spec.id, spec);
  }
  return map;
}
