/**
 * The rollout a parsed `canary` carries is what the rollout policies take: its fields feed
 * `judge` and `RolloutProgress` as they are, and every weight the config accepts is a whole number
 * of routing buckets. Pure: no threads, no files.
 */
import { describe, expect, test } from 'vitest';
import { type CanaryRollout, parseConfig } from '../packages/core/src/config.js';
import { type AnalysisSettings, judge } from '../packages/core/src/rollout/analysis.js';
import { type ProgressSettings, RolloutProgress } from '../packages/core/src/rollout/progress.js';
import { canaryBuckets } from '../packages/core/src/rollout/route.js';

/** The rollout of the one entry's canary in `canary`. */
function rolloutOf(canary: object): CanaryRollout {
  const config = parseConfig(
    JSON.stringify([
      {
        id: 'Foo',
        file: 'foo.js',
        name: 'Foo',
        version: '1.0',
        canary: { file: 'foo-2.js', version: '2.0', ...canary },
      },
    ]),
    '/cfg/glean.json',
  );
  const rollout = config.plugins[0]?.canary?.rollout;
  if (rollout === undefined) throw new Error('the entry parsed without its canary');
  return rollout;
}

describe('a parsed canary and the policies', () => {
  test('a stepped canary from the config starts at its first step and is judged with its analysis keys', () => {
    const rollout = rolloutOf({ steps: [1, 5, 25, 50], stepMs: 60_000, maxErrorRate: 2 });
    const settings: AnalysisSettings & ProgressSettings = rollout;
    const progress = new RolloutProgress(settings, 0);
    expect([progress.weight, progress.step]).toEqual([1, 0]);
    expect(progress.analysed('pass', 60_000)).toEqual([{ kind: 'step', weight: 5 }]);
    const stable = { calls: 9_000, errors: 0, errorRate: 0, p99Ms: 3 };
    expect(judge({ calls: 1_000, errors: 15, errorRate: 1.5, p99Ms: 3 }, stable, settings)).toEqual({ kind: 'pass' });
    expect(judge({ calls: 1_000, errors: 25, errorRate: 2.5, p99Ms: 3 }, stable, settings)).toMatchObject({
      kind: 'fail',
    });
  });

  test('every weight the config accepts (two decimals) routes exactly weight × 100 buckets', () => {
    for (let hundredths = 0; hundredths <= 10_000; hundredths += 7) {
      const weight = hundredths / 100;
      expect(rolloutOf({ weight }).weight).toBe(weight);
      expect(canaryBuckets(weight)).toBe(hundredths);
    }
  });
});
