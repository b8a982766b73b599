import type { GleanError } from './errors.js';
import { type PluginVersion, VersionState } from './version.js';

/**
 * The books of the versions one Glean runs: every version alive (serving an id, pinned by a
 * handle, or draining), the current one per identity so ids naming the same file, version and
 * options share workers, and the new ones of a change not switched to yet.
 */
export class VersionBook {
  /** Versions that run: current for some id, pinned by a handle, or draining. */
  readonly #live = new Set<PluginVersion>();
  /** Current versions by identity (`versionKey`). */
  readonly #byKey = new Map<string, PluginVersion>();
  /** New versions of the change being applied, not switched to yet: close() stops them at once. */
  readonly #starting = new Set<PluginVersion>();

  /** The running version with this identity, if it is ready to serve one more id. */
  reusable(key: string): PluginVersion | undefined {
    const version = this.#byKey.get(key);
    return version?.state === VersionState.READY ? version : undefined;
  }

  /** A new version of the change being applied; until {@link settled}, close() stops it at once. */
  starting(version: PluginVersion): void {
    this.#starting.add(version);
  }

  /** The change that started `version` is over: switched to, or given up. */
  settled(version: PluginVersion): void {
    this.#starting.delete(version);
  }

  /** An id switched to `version`: it is alive, current for its identity, and holds one more reference. */
  adopt(version: PluginVersion): void {
    this.#live.add(version);
    this.#byKey.set(version.spec.key, version);
    version.ref();
  }

  /**
   * An id left `version`: one reference less. With none left it retires itself, draining at once, so
   * {@link reusable} no longer offers it; {@link retired} takes it out of the books.
   */
  release(version: PluginVersion): void {
    version.unref();
  }

  /** `version` has retired: out of the books. */
  retired(version: PluginVersion): void {
    this.#live.delete(version);
    if (this.#byKey.get(version.spec.key) === version) this.#byKey.delete(version.spec.key);
  }

  /** Stops the versions of a change under way, at once, even mid-import. */
  stopStarting(): void {
    for (const version of this.#starting) void version.retire();
  }

  /** Ends the open streams of every live version with `error` (close()), before they drain. */
  endStreams(error: (id: string) => GleanError): void {
    for (const version of this.#live) version.endStreams(error);
  }

  /** Retires every live version (each drains up to its `drainTimeoutMs`); resolves once all have. */
  async retireAll(): Promise<void> {
    await Promise.all([...this.#live].map((version) => version.retire()));
  }
}
