/**
 * One generation: read the config and every plugin file, compare with what serves, start what is
 * new, then switch every touched id in one synchronous step — or change nothing.
 */
import { stat } from 'node:fs/promises';
import { Activation } from './activation.js';
import { ConfigIssueCode, type GleanConfig, readHashedConfig } from './config.js';
import { diffPlugins, type PluginSpec, versionKey } from './diff.js';
import { ErrorCode, GleanError, isGleanError } from './errors.js';
import type { GleanEvents, VersionInfo } from './events.js';
import type { Binding } from './handle.js';
import { lockKeysFor, readLock } from './lockfile.js';
import type { ModuleIntegrity } from './module-integrity.js';
import { drainFirstVersions, type IdMove } from './handover.js';
import { forId, pluginError } from './plugin-ref.js';
import { readPlugins, type EntryRead, type ReadPlugin } from './plugin-files.js';
import { Canary, type CanaryHost, type CanarySpec, canaryThreads, startWeight } from './rollout/canary.js';
import { rolloutKey } from './config.js';
import type { Registry } from './registry.js';
import type { Spares } from './spares.js';
import type { VersionBook } from './version-book.js';
import { SharedReads } from './modules/shared-reads.js';
import { PluginVersion, type VersionHooks, VersionState } from './version.js';

/** What a generation reads, and the books it changes. */
export interface GenerationParts {
  readonly configPath: string;
  readonly root: string;
  /** The root's real path as a `file:` URL (see `rootURLOf`). */
  readonly rootURL: string;
  readonly requireIntegrity: boolean;
  /** The lockfile to check modules against when it exists; `undefined`: none is used. */
  readonly lockfile: string | undefined;
  readonly registry: Registry;
  readonly versions: VersionBook;
  readonly spares: Spares;
  /** What every new version reports to. */
  readonly hooks: VersionHooks;
  /** What every canary started reports to. */
  readonly canaryHost: CanaryHost;
  /** close() began: stop, and change nothing. */
  closing(): boolean;
  closedError(): GleanError;
  /** Versions were started for a change, switched to or not: the spares may be refilled. */
  afterStart(): void;
  /**
   * Aborts when a newer change is asked for or close() begins: a change waiting for its config's
   * `activateAt` gives way. Absent: the first load, which switches once ready whatever `activateAt`
   * says (nothing serves meanwhile, and a replica starting late must not wait to serve).
   */
  readonly superseded?: AbortSignal;
}

/** An event of the switch, announced once the switch is complete. */
export type SwitchEvent = { [K in keyof GleanEvents]: [K, ...GleanEvents[K]] }[keyof GleanEvents];

/**
 * What a generation came to: the events of its switch (none when nothing changed) and the SHA-256
 * (hex) of the config bytes it applied, or the error an empty file held back, or `superseded`: a
 * newer change came while it waited for its activateAt, and it applied nothing.
 */
export type GenerationOutcome =
  | { readonly events: SwitchEvent[]; readonly configHash: string }
  | { readonly heldBack: GleanError }
  | { readonly superseded: true };

/**
 * Applies the config and plugin files as they are now. Resolves with the events of the switch (none
 * when nothing changed), after every touched id has switched; rejects with the coded error of the
 * first failure (combined when several plugins failed) having switched nothing and stopped every
 * version it started. `holdEmpty`: the config or a plugin file found empty (an editor truncates
 * before it writes) stops the run before anything loads, and the error it would have been is
 * resolved as `heldBack`, not thrown.
 */
export async function applyGeneration(parts: GenerationParts, holdEmpty: boolean): Promise<GenerationOutcome> {
  const reads = new SharedReads();
  try {
    return await generation(parts, holdEmpty, reads);
  } finally {
    reads.end();
  }
}

/** {@link applyGeneration}, with the config-file reads its check and its new versions share. */
async function generation(parts: GenerationParts, holdEmpty: boolean, reads: SharedReads): Promise<GenerationOutcome> {
  const { registry, versions } = parts;
  let config: GleanConfig;
  let configHash: string;
  try {
    ({ config, hash: configHash } = await readHashedConfig(parts.configPath));
  } catch (error) {
    const empty =
      isGleanError(error, ErrorCode.CONFIG_INVALID) && error.issues?.[0]?.code === ConfigIssueCode.EMPTY_FILE;
    if (holdEmpty && empty) return { heldBack: error };
    throw error;
  }
  const integrity: ModuleIntegrity = {
    lock: parts.lockfile === undefined ? undefined : await readLock(parts.lockfile),
    required: parts.requireIntegrity,
    key: await lockKeysFor(parts.root),
  };
  const read = await readPlugins(config, parts.root, integrity, holdEmpty).catch((error: GleanError) => {
    if (error.id !== undefined) registry.record(error.id).loadError = error;
    throw error;
  });
  const empty = holdEmpty
    ? read.flatMap((plugin) => [plugin, ...(plugin.canary === undefined ? [] : [plugin.canary])]).find((p) => p.empty)
    : undefined;
  if (empty !== undefined)
    return { heldBack: pluginError(ErrorCode.LOAD_FAILED, empty.spec, 'the plugin file is empty') };
  const loads = new Map<PluginSpec, EntryRead>(read.map(({ spec, load }) => [spec, load]));
  for (const { canary } of read) if (canary !== undefined) loads.set(canary.spec, canary.load);
  const stale = await staleVersions(parts, reads, [
    ...read.map(({ spec }) => spec),
    ...read.flatMap(({ canary }) => (canary === undefined ? [] : [canary.spec])),
  ]);
  // A module written in place is empty for a moment too: held back like an empty plugin file, and looked at again.
  if (holdEmpty) {
    const emptied = await firstEmpty([...stale.values()].flat());
    if (emptied !== undefined) {
      const [version] = [...stale.keys()];
      return {
        heldBack: pluginError(
          ErrorCode.LOAD_FAILED,
          version?.spec ?? { file: emptied, version: '' },
          `${emptied} is empty`,
        ),
      };
    }
  }
  const found = diffPlugins(
    registry.specs(),
    read.map(({ spec }) => spec),
  );
  // An id whose version's modules changed on disk (a helper, a tsconfig) changes as an entry change does.
  const graphChanged = found.unchanged.filter((spec) => {
    const serving = servingVersion(registry, spec.id);
    return serving !== undefined && stale.has(serving);
  });
  const diff = {
    ...found,
    changed: [...found.changed, ...graphChanged.map((to) => ({ from: registry.serving(to.id)!.spec, to }))],
    unchanged: found.unchanged.filter((spec) => !graphChanged.includes(spec)),
  };
  const failedNow = diff.unchanged.filter(
    (spec) => registry.serving(spec.id)?.binding.pluginVersion.state === VersionState.FAILED,
  );
  // The config names again what serves these ids: a failed attempt at something else is no longer their news.
  for (const spec of diff.unchanged) if (!failedNow.includes(spec)) registry.record(spec.id).loadError = undefined;
  const incoming = [...diff.added, ...diff.changed.map((change) => change.to), ...failedNow];
  const canaryMoves = planCanaries(registry, read, stale);
  if (incoming.length === 0 && diff.removed.length === 0 && canaryMoves.length === 0) return { events: [], configHash };

  const fresh = new Map<string, { version: PluginVersion; names: Set<string> }>();
  /**
   * Running versions this change reuses, each held by one reference until the switch adopted it: a
   * rollback or a pinned handle let go while the change loads would otherwise retire a version the
   * switch is about to serve an id with.
   */
  const reused = new Set<PluginVersion>();
  /** The version `spec` runs on: a running one of its identity, one of this change's, or a new one of `threads` threads. */
  const versionFor = async (spec: PluginSpec, threads: number): Promise<PluginVersion> => {
    const key = versionKey(spec);
    const found = versions.reusable(key);
    const running = found !== undefined && !stale.has(found) ? found : undefined;
    if (running !== undefined && !reused.has(running)) {
      running.ref();
      reused.add(running);
    }
    let version = running ?? fresh.get(key)?.version;
    if (version === undefined) {
      const load = loads.get(spec);
      if (load === undefined) throw new Error(`no read for ${spec.id}`);
      version = new PluginVersion(
        {
          key,
          id: spec.id,
          file: spec.file,
          version: spec.version,
          contentHash: spec.contentHash,
          options: spec.options,
          realFile: load.file,
          bytes: load.bytes,
          root: parts.root,
          rootURL: parts.rootURL,
          integrity,
          reads,
        },
        parts.hooks,
        // Spare threads come as many as the options' `threads`: a canary that starts fewer starts its own.
        threads === spec.options.threads ? await parts.spares.take(spec) : undefined,
        threads,
      );
      fresh.set(key, { version, names: new Set() });
      versions.starting(version);
    }
    fresh.get(key)?.names.add(spec.name);
    return version;
  };
  const plan: { spec: PluginSpec; version: PluginVersion }[] = [];
  for (const spec of incoming) plan.push({ spec, version: await versionFor(spec, spec.options.threads) });
  const canaryPlan: { spec: CanarySpec; version: PluginVersion }[] = [];
  for (const move of canaryMoves) {
    if (move.kind !== 'start') continue;
    const { spec } = move;
    canaryPlan.push({
      spec,
      version: await versionFor(spec, canaryThreads(spec.options.threads, startWeight(spec.rollout))),
    });
  }

  for (const spec of incoming) registry.record(spec.id).loading = true;
  const failures: GleanError[] = [];
  const started: PluginVersion[] = [];
  const handedOver = drainFirstVersions(idMoves(registry, plan, diff.removed, fresh));
  const activation = new Activation(config.activateAt, parts.superseded);
  try {
    // Closed while spares were taken: close() stopped the new versions it saw; stop the rest.
    if (parts.closing()) {
      await Promise.all([...fresh.values()].map(({ version }) => version.retire()));
      throw parts.closedError();
    }
    // A drain-first handover ends the old version before the new one starts: with an activateAt, it begins at that time.
    if (handedOver.length > 0 && !(await activation.due(false))) {
      await Promise.all([...fresh.values()].map(({ version }) => version.retire()));
      if (parts.closing()) throw parts.closedError();
      return { superseded: true };
    }
    // drain-first: the old versions end (drain, cleanup, threads) before the new ones start; calls wait in their queues.
    await Promise.all(handedOver.map((version) => version.handOver()));
    await Promise.all(
      [...fresh.values()].map(({ version, names }) =>
        version.start([...names]).then(
          () => void started.push(version),
          (error: GleanError) => void failures.push(error),
        ),
      ),
    );
    const bindings = new Map<string, Binding>();
    for (const { spec, version } of plan) {
      if (failures.length > 0) break;
      try {
        bindings.set(spec.id, await bind(registry, spec, version));
      } catch (error) {
        failures.push(error as GleanError);
      }
    }
    const canaryBindings = new Map<string, Binding>();
    for (const { spec, version } of canaryPlan) {
      if (failures.length > 0) break;
      try {
        canaryBindings.set(spec.id, await bindCanary(registry, spec, version, bindings.get(spec.id)));
      } catch (error) {
        failures.push(error as GleanError);
      }
    }
    // Ready: the current versions serve on until the config's activateAt, if it has one; a newer change replaces this one.
    const superseded = failures.length === 0 && handedOver.length === 0 && !(await activation.due(true));
    if (failures.length > 0 || parts.closing() || superseded) {
      await Promise.all(started.map((version) => version.retire()));
      // Nothing changed, and nothing stays down: a version handed over starts again from its own bytes.
      if (!parts.closing())
        await Promise.all(
          handedOver.map((version) => version.resume().catch((error: GleanError) => void failures.push(error))),
        );
      for (const failure of failures) if (failure.id !== undefined) registry.record(failure.id).loadError = failure;
      if (parts.closing()) throw parts.closedError();
      if (superseded) return { superseded: true };
      throw failures.length === 1 ? failures[0] : combined(failures);
    }
    const events = commit(parts, plan, bindings, diff.removed, stale, handedOver);
    events.push(...commitCanaries(parts, canaryMoves, canaryBindings));
    const activated = activation.switched(Date.now());
    return { events: activated === undefined ? events : [...events, ['activate', activated]], configHash };
  } finally {
    for (const spec of incoming) registry.record(spec.id).loading = false;
    for (const { version } of fresh.values()) versions.settled(version);
    // Adopted by the switch, or not: one let go meanwhile (rolled back) retires now.
    for (const version of reused) version.unref();
    parts.afterStart();
  }
}

/** Every id the change moves off the version serving it (or removes), for the handover rule. */
function idMoves(
  registry: Registry,
  plan: readonly { spec: PluginSpec; version: PluginVersion }[],
  removed: readonly PluginSpec[],
  fresh: ReadonlyMap<string, { version: PluginVersion }>,
): IdMove<PluginVersion>[] {
  const moves: IdMove<PluginVersion>[] = [];
  for (const { spec, version } of plan) {
    const from = servingVersion(registry, spec.id);
    if (from === undefined) continue;
    moves.push({
      from,
      to: version,
      fresh: fresh.get(version.spec.key)?.version === version,
      drainFirst: spec.options.handover === 'drain-first',
    });
  }
  for (const spec of removed) {
    const from = servingVersion(registry, spec.id);
    if (from !== undefined) moves.push({ from, to: undefined, fresh: false, drainFirst: false });
  }
  return moves;
}

/** What a change does to one id's canary. */
type CanaryMove =
  /** A new canary, or another version for the id's canary (the one it replaces ends). */
  | { readonly kind: 'start'; readonly id: string; readonly spec: CanarySpec }
  /** The same canary version, rolled out another way (weight, steps, analysis settings). */
  | { readonly kind: 'update'; readonly id: string; readonly spec: CanarySpec }
  /** The config no longer names a canary for the id (dropped, promoted, or the id removed). */
  | { readonly kind: 'end'; readonly id: string };

/**
 * What the latest config does to every id's canary. A canary keeps its version while the config names
 * the same one (file, version, options, content) and its modules are unchanged on disk; a rolled-back
 * one stays rolled back until the config names another canary `version` (the text that names a
 * canary): an edit of its file or its modules under the same version does not bring it back.
 */
function planCanaries(
  registry: Registry,
  read: readonly ReadPlugin[],
  stale: ReadonlyMap<PluginVersion, readonly string[]>,
): CanaryMove[] {
  const moves: CanaryMove[] = [];
  const named = new Set<string>();
  for (const { spec: entry, canary } of read) {
    named.add(entry.id);
    const current = registry.get(entry.id)?.canary;
    if (canary === undefined) {
      if (current !== undefined) moves.push({ kind: 'end', id: entry.id });
      continue;
    }
    const { spec } = canary;
    const same =
      current !== undefined &&
      (current.rolledBack
        ? current.spec.version === spec.version
        : current.spec.name === spec.name &&
          versionKey(current.spec) === versionKey(spec) &&
          (current.version === undefined || !stale.has(current.version)));
    if (!same) moves.push({ kind: 'start', id: entry.id, spec });
    else if (!current.rolledBack && rolloutKey(current.spec.rollout) !== rolloutKey(spec.rollout))
      moves.push({ kind: 'update', id: entry.id, spec });
  }
  for (const { id, canary } of registry.entries())
    if (canary !== undefined && !named.has(id)) moves.push({ kind: 'end', id });
  return moves;
}

/** Describes the canary's export on its version: it must be of the kind the id's handles serve. */
async function bindCanary(
  registry: Registry,
  spec: CanarySpec,
  version: PluginVersion,
  stable: Binding | undefined,
): Promise<Binding> {
  const description = await version.ensureExport(spec.name, spec.id);
  const kind = (stable ?? registry.serving(spec.id)?.binding)?.description.kind;
  if (kind !== undefined && kind !== description.kind) {
    throw pluginError(
      ErrorCode.KIND_CHANGED,
      spec,
      `the canary's export "${spec.name}" is a ${description.kind}, the stable version's is a ${kind}; both must be of one kind`,
    );
  }
  return { pluginVersion: version, name: spec.name, description };
}

/**
 * The canaries' part of the switch, right after the stable versions': canaries start, end (an end
 * whose version now serves the id is a promotion: its workers keep running, as the stable's), or
 * change weight.
 */
function commitCanaries(
  { registry, versions, canaryHost }: GenerationParts,
  moves: readonly CanaryMove[],
  bindings: ReadonlyMap<string, Binding>,
): SwitchEvent[] {
  const events: SwitchEvent[] = [];
  const released: PluginVersion[] = [];
  for (const move of moves) {
    const record = registry.record(move.id);
    const current = record.canary;
    if (move.kind === 'update') {
      if (current?.update(move.spec) === true) events.push(['canary', canaryEvent(current)]);
      continue;
    }
    if (current !== undefined) {
      const version = current.end();
      record.canary = undefined;
      if (version !== undefined) {
        released.push(version);
        const { version: text, file } = current.spec;
        if (record.serving?.binding.pluginVersion === version)
          events.push(['promote', { id: move.id, version: text, file }]);
        else if (move.kind === 'end') events.push(['canary', { id: move.id, version: text, file, weight: 0 }]);
      }
    }
    if (move.kind === 'start') {
      const binding = bindings.get(move.id);
      if (binding === undefined) throw new Error(`no canary binding for ${move.id}`);
      versions.adopt(binding.pluginVersion);
      const canary = new Canary(move.id, move.spec, binding, canaryHost);
      record.canary = canary;
      events.push(['canary', canaryEvent(canary)]);
    }
  }
  for (const version of released) versions.release(version);
  return events;
}

function canaryEvent(canary: Canary): GleanEvents['canary'][0] {
  const { version, file } = canary.spec;
  return { id: canary.id, version, file, weight: canary.weight };
}

/** Describes the id's export on its new version; a handle cannot change kind. */
async function bind(registry: Registry, spec: PluginSpec, version: PluginVersion): Promise<Binding> {
  const description = await version.ensureExport(spec.name, spec.id);
  const before = registry.serving(spec.id)?.binding.description.kind;
  if (before !== undefined && before !== description.kind) {
    throw pluginError(
      ErrorCode.KIND_CHANGED,
      spec,
      `export "${spec.name}" is a ${description.kind}, the running version's is a ${before}; handles cannot change kind`,
    );
  }
  return { pluginVersion: version, name: spec.name, description };
}

/** Switches every touched id in one synchronous step, so no caller sees half a generation. */
function commit(
  { registry, versions }: GenerationParts,
  plan: readonly { spec: PluginSpec; version: PluginVersion }[],
  bindings: ReadonlyMap<string, Binding>,
  removed: readonly PluginSpec[],
  stale: ReadonlyMap<PluginVersion, readonly string[]>,
  handedOver: readonly PluginVersion[],
): SwitchEvent[] {
  const released: PluginVersion[] = [];
  const events: SwitchEvent[] = [];
  for (const { spec, version } of plan) {
    const binding = bindings.get(spec.id);
    if (binding === undefined) throw new Error(`no binding for ${spec.id}`);
    const before = registry.serving(spec.id);
    versions.adopt(version);
    // A version that ran as a canary (promoted, or shared by identity) serves with all its threads.
    version.grow(version.spec.options.threads);
    registry.set(spec.id, { spec, binding });
    if (before === undefined) {
      events.push(['load', { id: spec.id, kind: binding.description.kind, to: versionInfo(version) }]);
    } else {
      const from = before.binding.pluginVersion;
      released.push(from);
      const changed =
        stale.get(from) ?? (from.spec.contentHash === version.spec.contentHash ? [] : [version.spec.realFile]);
      events.push(['reload', { id: spec.id, from: versionInfo(from), to: versionInfo(version), changed }]);
    }
  }
  for (const spec of removed) {
    const before = registry.serving(spec.id);
    if (before === undefined) continue;
    registry.set(spec.id, undefined);
    released.push(before.binding.pluginVersion);
    events.push(['remove', { id: spec.id, from: versionInfo(before.binding.pluginVersion) }]);
  }
  // The calls that waited through a drain-first handover go to their ids' new versions, in order.
  for (const version of handedOver) {
    version.passQueued(
      (id) => {
        const binding = bindings.get(id);
        return binding === undefined ? undefined : { version: binding.pluginVersion, name: binding.name };
      },
      (id) =>
        pluginError(
          ErrorCode.NOT_CONFIGURED,
          forId(version.spec, id),
          `"${id}" was removed from the config while the call waited for its drain-first handover; the call never ran`,
        ),
    );
  }
  for (const version of released) versions.release(version);
  return events;
}

/** A version as events name it. */
export function versionInfo(version: PluginVersion): VersionInfo {
  const { file, version: text, contentHash } = version.spec;
  return { file, version: text, contentHash, modules: version.graph.size, graphHash: version.graph.hash };
}

/** The first of `files` that is an empty regular file now, if any. */
async function firstEmpty(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    const stats = await stat(file).catch(() => undefined);
    if (stats?.isFile() === true && stats.size === 0) return file;
  }
  return undefined;
}

function servingVersion(registry: Registry, id: string): PluginVersion | undefined {
  return registry.serving(id)?.binding.pluginVersion;
}

/**
 * The running versions the latest specs could stay on or share whose module graph changed on disk
 * since they loaded, each with the files that changed: they keep serving until the switch, but
 * nothing new goes to them.
 */
async function staleVersions(
  { registry, versions }: GenerationParts,
  reads: SharedReads,
  latest: readonly PluginSpec[],
): Promise<Map<PluginVersion, readonly string[]>> {
  const candidates = new Set<PluginVersion>();
  for (const spec of latest) {
    // A failed one too: it is never reused, but the reload that replaces it says what changed.
    const serving = servingVersion(registry, spec.id);
    if (serving !== undefined) candidates.add(serving);
    const canary = registry.get(spec.id)?.canary?.version;
    if (canary !== undefined) candidates.add(canary);
    const shared = versions.reusable(versionKey(spec));
    if (shared !== undefined) candidates.add(shared);
  }
  const stale = new Map<PluginVersion, readonly string[]>();
  await Promise.all(
    [...candidates].map(async (version) => {
      const changed = await version.graph.changes(reads);
      if (changed.length > 0) stale.set(version, changed);
    }),
  );
  return stale;
}

/** One error for a change in which several plugins failed: the first one's code and plugin, every message. */
function combined(failures: readonly GleanError[]): GleanError {
  const [first] = failures as [GleanError, ...GleanError[]];
  return new GleanError(
    first.code,
    `${failures.length} plugins failed to load; nothing changed:\n  ${failures.map((f) => f.message).join('\n  ')}`,
    { cause: new AggregateError(failures), id: first.id, file: first.file, version: first.version },
  );
}
