import type { ExportKind } from '@glean/worker/protocol';
import { type CallStats, newCallStats } from './call-stats.js';
import type { PluginSpec } from './diff.js';
import type { GleanError } from './errors.js';
import type { Binding } from './handle.js';
import type { Canary, CanaryStatus } from './rollout/canary.js';
import { type PluginVersion, VersionState } from './version.js';

/** One id in {@link Glean.status}. */
export interface PluginStatus {
  /** The id, as the config names it. */
  readonly id: string;
  /** Absolute path of the plugin file now serving the id. */
  readonly file: string;
  /** The export the id names. */
  readonly name: string;
  /** The config's `version` text of the version serving it; `''` when absent. */
  readonly version: string;
  /** What the export is: `function`, `object` or `value`. */
  readonly kind: ExportKind;
  /** `loading` while a new version for the id is being prepared (under `handover: "drain-first"`, from the old version's end on); `failed` after a crash loop. */
  readonly state: 'loading' | 'ready' | 'draining' | 'failed';
  /** One entry per live worker thread of the version: its thread id, calls in flight on it, and whether it takes calls (a replacement does once loaded). */
  readonly threads: readonly { readonly threadId: number; readonly inFlight: number; readonly ready: boolean }[];
  /** Calls not yet settled on the id's version, and its streamed results not yet ended (shared with other ids of the same version). */
  readonly inFlight: number;
  /** Calls made through this id's handles since it was first configured. */
  readonly calls: number;
  /** Of those, how many rejected. */
  readonly errors: number;
  /** Worker restarts of the current version after crashes. */
  readonly restarts: number;
  /** How many plugin-owned modules the version serving the id loaded (its plugin file included). */
  readonly modules: number;
  /** SHA-256 (hex) over everything the version runs: its modules by content and the files that decided how they resolve and compile. */
  readonly graphHash: string;
  /** The latest failure concerning the id: a failed reload, a crash, a rejected call, a failed cleanup (`GLEAN_DISPOSE_FAILED`). */
  readonly lastError: Error | undefined;
  /** The id's canary, while the config names one (a rolled-back one too); `undefined` without. */
  readonly canary: CanaryStatus | undefined;
}

/** What {@link Glean.findAll} matches. */
export interface FindQuery {
  /** Only object exports that have every one of these methods. */
  methods?: readonly string[];
  /** Only exports of this kind. */
  kind?: ExportKind;
}

/** An id glean serves now: the config entry that names it, and where its calls go. */
export interface Serving {
  readonly spec: PluginSpec;
  readonly binding: Binding;
}

/** Everything glean knows of one id, in one record. */
export interface IdRecord {
  readonly id: string;
  /** What serves the id now; `undefined` before its first load and after it left the config. */
  serving: Serving | undefined;
  /** Its calls, counted across every version and handle, kept when the id leaves the config. */
  readonly stats: CallStats;
  /** The latest failed load of the id, cleared when a version of it is switched to. */
  loadError: GleanError | undefined;
  /** A new version for the id is being started. */
  loading: boolean;
  /** The id's canary while the config names one, rolled back or not. */
  canary: Canary | undefined;
}

/**
 * The per-id registry: one record per id ever configured. Ids serving are listed in the order
 * they were first configured (as the config named them then).
 */
export class Registry {
  readonly #records = new Map<string, IdRecord>();

  /** The record of `id`, made on first use. */
  record(id: string): IdRecord {
    let record = this.#records.get(id);
    if (record === undefined) {
      record = {
        id,
        serving: undefined,
        stats: newCallStats(id),
        loadError: undefined,
        loading: false,
        canary: undefined,
      };
      this.#records.set(id, record);
    }
    return record;
  }

  /** The record of `id`, if it was ever configured. */
  get(id: string): IdRecord | undefined {
    return this.#records.get(id);
  }

  /** The ids whose canary runs on `version`. */
  canaryIdsOf(version: PluginVersion): string[] {
    return [...this.entries()].filter(({ canary }) => canary?.version === version).map(({ id }) => id);
  }

  /** What serves `id` now, if it is configured and loaded. */
  serving(id: string): Serving | undefined {
    return this.#records.get(id)?.serving;
  }

  /** Every id serving now, in the order they were first configured. */
  *entries(): IterableIterator<IdRecord & { serving: Serving }> {
    for (const record of this.#records.values())
      if (record.serving !== undefined) yield record as IdRecord & { serving: Serving };
  }

  /** The specs serving now, in the order their ids were first configured: what the next config is compared with. */
  specs(): PluginSpec[] {
    return [...this.entries()].map(({ serving }) => serving.spec);
  }

  /** The ids serving now. */
  ids(): string[] {
    return [...this.entries()].map(({ id }) => id);
  }

  /** The ids a version serves. */
  idsOf(version: PluginVersion): string[] {
    return [...this.entries()].filter(({ serving }) => serving.binding.pluginVersion === version).map(({ id }) => id);
  }

  /** Switches `id` to `serving`, or (`undefined`) takes it out of service; either way its load error is cleared. */
  set(id: string, serving: Serving | undefined): void {
    const record = this.record(id);
    record.serving = serving;
    record.loadError = undefined;
  }

  /** Ids whose current export matches `query`, in the order they were first configured. */
  findAll(query: FindQuery): string[] {
    const methods = query.methods ?? [];
    const found: string[] = [];
    for (const { id, serving } of this.entries()) {
      const { description } = serving.binding;
      if (query.kind !== undefined && description.kind !== query.kind) continue;
      if (
        methods.length > 0 &&
        (description.kind !== 'object' ||
          // A lifecycle hook (a CommonJS module.exports' `dispose`) is no handle's method, but matches when named.
          !methods.every((method) => description.methods.includes(method) || description.lifecycle?.includes(method)))
      )
        continue;
      found.push(id);
    }
    return found;
  }

  /** Every serving id's status. */
  status(): Record<string, PluginStatus> {
    const result: Record<string, PluginStatus> = {};
    for (const record of this.entries()) {
      // Defined, not assigned: an id may be "__proto__".
      Object.defineProperty(result, record.id, {
        enumerable: true,
        configurable: true,
        writable: true,
        value: statusOf(record),
      });
    }
    return result;
  }
}

function statusOf({ id, serving, stats, loadError, loading, canary }: IdRecord & { serving: Serving }): PluginStatus {
  const { spec, binding } = serving;
  const version = binding.pluginVersion;
  // Handing over (drain-first): the id's calls wait for a version to load.
  const state =
    loading || version.state === VersionState.HANDING_OVER
      ? 'loading'
      : version.state === VersionState.RETIRED
        ? 'draining'
        : version.state;
  return {
    id,
    file: spec.file,
    name: spec.name,
    version: spec.version,
    kind: binding.description.kind,
    state,
    threads: version.threads.map(({ threadId, inFlight, ready }) => ({ threadId, inFlight, ready })),
    inFlight: version.inFlight,
    calls: stats.calls,
    errors: stats.errors,
    restarts: version.restarts,
    modules: version.graph.size,
    graphHash: version.graph.hash,
    lastError: loadError ?? stats.lastError ?? version.lastError,
    canary: canary?.status(),
  };
}
