/**
 * One id's canary while it runs: where each call goes (route.ts), the two versions' outcome windows
 * (window.ts), the analysis every `intervalMs` (analysis.ts), the weight over time (progress.ts), and
 * the rollback. The engine makes one at the switch that starts a canary and ends it at the switch
 * that drops it; in between it changes nothing but its own weight and, at a rollback, lets its
 * version go.
 */
import type { CallOptions } from '../call-options.js';
import type { CallTracker } from '../call-stats.js';
import type { CanaryRollout } from '../config.js';
import type { PluginSpec } from '../diff.js';
import { ErrorCode, GleanError, isGleanError } from '../errors.js';
import type { GleanEvents, RollbackEvent, RolloutFigures } from '../events.js';
import { type Binding, REFUSALS } from '../handle.js';
import { forId } from '../plugin-ref.js';
import type { PluginVersion, ThreadStatus } from '../version.js';
import { crashVerdict, judge, type RollbackReason } from './analysis.js';
import { RolloutProgress } from './progress.js';
import { routeSeed, toCanary } from './route.js';
import { OutcomeWindow } from './window.js';

/** A config entry's canary as a generation reads it: the version it names, and how it rolls out. */
export interface CanarySpec extends PluginSpec {
  readonly rollout: CanaryRollout;
}

/** What a canary reports to, and how it lets its version go. */
export interface CanaryHost {
  announce<K extends keyof GleanEvents>(event: K, ...args: GleanEvents[K]): void;
  /** A canary was rolled back: logged at `error` level, with the event's fields. */
  rolledBack(event: RollbackEvent): void;
  /** The canary's version is no longer routed to (rolled back): one reference less, so it drains and retires. */
  release(version: PluginVersion): void;
}

/** A canary's state in `status()`. */
export type CanaryState = 'running' | 'held' | 'rolled-back';

/** One id's canary in {@link PluginStatus}. */
export interface CanaryStatus {
  /** The canary's plugin file, absolute. */
  readonly file: string;
  readonly name: string;
  /** The canary's config `version`. */
  readonly version: string;
  /** `running`, `held` (a stepped canary kept at its step by `glean.hold()`), or `rolled-back` (until the config names another canary version). */
  readonly state: CanaryState;
  /** The percentage of the id's calls it gets now; 0 once rolled back. */
  readonly weight: number;
  /** The index of the current step in `steps`; `undefined` for a fixed weight. */
  readonly step: number | undefined;
  readonly steps: readonly number[] | undefined;
  /** Its threads, as the stable's in {@link PluginStatus.threads}; none once rolled back. */
  readonly threads: readonly ThreadStatus[];
  /** SHA-256 (hex) over everything the canary's version runs, as {@link PluginStatus.graphHash}. */
  readonly graphHash: string;
  /** Both versions' figures in the analysis window now (since the last verdict). */
  readonly window: RolloutFigures;
  /** The last analysis: when (epoch ms), and its verdict; `undefined` before the first. */
  readonly lastAnalysis: { readonly at: number; readonly verdict: 'wait' | 'pass' | 'fail' } | undefined;
  /** Why and when it was rolled back, with the figures then; `undefined` while it runs. */
  readonly rollback:
    | {
        readonly reason: RollbackReason;
        readonly detail: string;
        readonly figures: RolloutFigures;
        readonly at: number;
      }
    | undefined;
}

/** Outcomes that say nothing of the version that would have run the call: a handle's refusals, and the caller's abort. */
const NOT_COUNTED: ReadonlySet<string> = new Set([...REFUSALS, ErrorCode.ABORTED]);

/** The threads a canary runs at `weight`: its share of the stable's, at least one. */
export function canaryThreads(threads: number, weight: number): number {
  return Math.max(1, Math.ceil((threads * weight) / 100));
}

/** The weight a rollout starts at: its fixed weight, or its first step. */
export function startWeight(rollout: CanaryRollout): number {
  return rollout.weight ?? rollout.steps?.[0] ?? 0;
}

export class Canary {
  readonly id: string;
  #spec: CanarySpec;
  readonly #host: CanaryHost;
  readonly #seed: number;
  readonly #stable = new OutcomeWindow();
  readonly #canary = new OutcomeWindow();
  #progress: RolloutProgress;
  /** The canary's binding, counting its calls; `undefined` once rolled back or ended. */
  #binding: Binding | undefined;
  readonly #version: PluginVersion;
  /** The stable's binding as last routed to, and the same counting its calls. */
  #stableSeen: Binding | undefined;
  #stableTracked: Binding | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastAnalysis: CanaryStatus['lastAnalysis'];
  #rollback: CanaryStatus['rollback'];

  /** `binding`: the canary's export on its version, already adopted by the version book. */
  constructor(id: string, spec: CanarySpec, binding: Binding, host: CanaryHost) {
    this.id = id;
    this.#spec = spec;
    this.#host = host;
    this.#version = binding.pluginVersion;
    this.#seed = routeSeed(id, spec.version);
    this.#binding = { ...binding, canary: true, tracker: this.#trackerOf(this.#canary, true) };
    this.#progress = this.#newProgress(spec.rollout);
    this.#startTimer();
  }

  /** The config's canary this runs: its version and its rollout. */
  get spec(): CanarySpec {
    return this.#spec;
  }

  /** The canary's version while it is routed to; `undefined` once rolled back or ended. */
  get version(): PluginVersion | undefined {
    return this.#binding?.pluginVersion;
  }

  /** Rolled back: it serves nothing until the config names another canary version. */
  get rolledBack(): boolean {
    return this.#rollback !== undefined;
  }

  /** The percentage of the id's calls it gets now. */
  get weight(): number {
    return this.#binding === undefined ? 0 : this.#progress.weight;
  }

  /**
   * Where a call goes: the version `options.version` names, or by `options.key` (random without
   * one) the canary or `stable`. Both count their outcomes in the analysis window.
   */
  route(stable: Binding, options: CallOptions | undefined): Binding | GleanError {
    const wanted = options?.version;
    if (wanted !== undefined) {
      if (wanted === this.spec.version) return this.#binding ?? this.#notRunning(wanted, stable);
      if (wanted === stable.pluginVersion.spec.version) return this.#trackedStable(stable);
      return this.#notRunning(wanted, stable);
    }
    const canary = this.#binding;
    // Rolled back: nothing is analysed any more, so the stable's calls are not counted either.
    if (canary === undefined) return stable;
    return toCanary(this.#progress.weight, this.#seed, options?.key) ? canary : this.#trackedStable(stable);
  }

  /**
   * The config changed how this canary rolls out (not its version): a new weight, steps, or analysis
   * settings. Steps start again at the first; the window, the crash streak and a hold go on. Returns
   * whether the weight changed (the caller says so, with the switch's events).
   */
  update(spec: CanarySpec): boolean {
    if (this.#binding === undefined) return false;
    const before = this.#progress.weight;
    const held = this.#progress.held;
    this.#spec = spec;
    this.#progress = this.#newProgress(spec.rollout, this.#progress.crashes);
    if (held) this.#progress.hold(true, Date.now());
    this.#stopTimer();
    this.#startTimer();
    if (this.#progress.weight === before) return false;
    this.#grow();
    return true;
  }

  /** Keeps a stepped canary at its step (`held`), or lets it advance again. Throws `GLEAN_NO_CANARY` once rolled back. */
  hold(held: boolean): void {
    if (this.#binding === undefined) throw this.#none('hold');
    this.#progress.hold(held, Date.now());
  }

  /** One of the canary's workers crashed: five in a row, with no call answered between, roll it back at once. */
  crashed(): void {
    if (this.#binding === undefined || !this.#progress.crashed()) return;
    const { reason, detail } = crashVerdict();
    this.rollback(reason, detail);
  }

  /** Rolls the canary back now: weight 0, its calls in flight finish, its version is let go. Throws `GLEAN_NO_CANARY` if it already was. */
  rollback(reason: RollbackReason, detail: string): void {
    const binding = this.#binding;
    if (binding === undefined) throw this.#none('roll back');
    const figures = this.#figures();
    this.#binding = undefined;
    this.#stopTimer();
    this.#rollback = { reason, detail, figures, at: Date.now() };
    this.#host.release(binding.pluginVersion);
    const { version, file } = this.spec;
    const event: RollbackEvent = { id: this.id, version, file, reason, detail, figures };
    this.#host.rolledBack(event);
    this.#host.announce('rollback', event);
  }

  /**
   * The config no longer names this canary (dropped, promoted, or replaced by another): it stops, and
   * returns its version for the caller to release, unless a rollback already did.
   */
  end(): PluginVersion | undefined {
    this.#stopTimer();
    const version = this.#binding?.pluginVersion;
    this.#binding = undefined;
    return version;
  }

  status(): CanaryStatus {
    const version = this.#version;
    const { file, name, rollout } = this.spec;
    return {
      file,
      name,
      version: this.spec.version,
      state: this.#rollback !== undefined ? 'rolled-back' : this.#progress.held ? 'held' : 'running',
      weight: this.weight,
      step: this.#progress.step,
      steps: rollout.steps,
      threads: this.#binding === undefined ? [] : version.threads,
      graphHash: version.graph.hash,
      window: this.#figures(),
      lastAnalysis: this.#lastAnalysis,
      rollback: this.#rollback,
    };
  }

  /** One analysis: a failure rolls back; a pass may step up and starts a new window; too few calls keep the window, and may be a stall. */
  #analyse(): void {
    if (this.#binding === undefined) return;
    const now = Date.now();
    const figures = this.#figures();
    const verdict = judge(figures.canary, figures.stable, this.spec.rollout);
    this.#lastAnalysis = { at: now, verdict: verdict.kind };
    if (verdict.kind === 'fail') {
      this.rollback(verdict.reason, verdict.detail);
      return;
    }
    if (verdict.kind === 'pass') {
      this.#stable.reset();
      this.#canary.reset();
    }
    for (const change of this.#progress.analysed(verdict.kind, now)) {
      if (change.kind === 'step') this.#weightChanged();
      else {
        const { version, file } = this.spec;
        this.#host.announce('stalled', {
          id: this.id,
          version,
          file,
          weight: this.weight,
          waitedMs: now - change.sinceMs,
          figures,
        });
      }
    }
  }

  /** A step: the canary's threads grown to its share at the new weight, and said. */
  #weightChanged(): void {
    this.#grow();
    const { version, file } = this.spec;
    this.#host.announce('canary', { id: this.id, version, file, weight: this.weight });
  }

  #grow(): void {
    this.#version.grow(canaryThreads(this.spec.options.threads, this.weight));
  }

  #figures(): RolloutFigures {
    return { stable: this.#stable.figures(), canary: this.#canary.figures() };
  }

  #newProgress(rollout: CanaryRollout, crashes = 0): RolloutProgress {
    return new RolloutProgress(rollout, Date.now(), crashes);
  }

  #startTimer(): void {
    this.#timer = setInterval(() => this.#analyse(), this.spec.rollout.intervalMs);
    // A canary's analysis never keeps the process alive on its own.
    this.#timer.unref();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The stable's binding counting its calls: made again only when the stable changed. */
  #trackedStable(stable: Binding): Binding {
    if (this.#stableSeen !== stable) {
      this.#stableSeen = stable;
      this.#stableTracked = { ...stable, tracker: this.#trackerOf(this.#stable, false) };
    }
    return this.#stableTracked as Binding;
  }

  /** What counts a call's outcome and latency in `window`; an answered canary call ends its crash streak. */
  #trackerOf(window: OutcomeWindow, canary: boolean): CallTracker {
    return {
      settled: (failed, error, ms) => {
        if (!failed) {
          window.record(false, ms);
          if (canary) this.#progress.answered();
        } else if (!(isGleanError(error) && NOT_COUNTED.has(error.code))) window.record(true, ms);
      },
    };
  }

  #notRunning(wanted: string, stable?: Binding): GleanError {
    const running = [stable?.pluginVersion.spec.version, this.#binding === undefined ? undefined : this.spec.version]
      .filter((text) => text !== undefined)
      .map((text) => JSON.stringify(text));
    const rolledBack =
      this.#rollback !== undefined && wanted === this.spec.version ? ' (its canary was rolled back)' : '';
    return new GleanError(
      ErrorCode.NOT_CONFIGURED,
      `"${this.id}" runs no version ${JSON.stringify(wanted)}${rolledBack}; versions running: ${running.join(', ') || '(none)'}`,
      forId(this.spec, this.id),
    );
  }

  #none(what: string): GleanError {
    const at = this.#rollback === undefined ? '' : ` at ${new Date(this.#rollback.at).toISOString()}`;
    return new GleanError(
      ErrorCode.NO_CANARY,
      `cannot ${what} the canary of "${this.id}": canary ${JSON.stringify(this.spec.version)} was already rolled back${at}`,
      { id: this.id },
    );
  }
}
