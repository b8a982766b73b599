/**
 * The values each entry point exports: the main entry holds what an application uses, tools and
 * numbers sit in subpaths. A name added or dropped here is a change of the public API.
 */
import { describe, expect, test } from 'vitest';

const ENTRIES = {
  '@glean/core': [
    'ConfigIssueCode',
    'ErrorCode',
    'ExportKind',
    'Glean',
    'GleanChannel',
    'GleanError',
    'GleanEvent',
    'RollbackReason',
    'TRANSFER',
    'isGleanError',
    'loadSymbol',
    'release',
    'transfer',
    'withOptions',
  ],
  '@glean/core/config': [
    'ConfigFileSchema',
    'ConfigIssueCode',
    'DEFAULT_CANARY_ANALYSIS',
    'DEFAULT_PLUGIN_OPTIONS',
    'MAX_CONFIG_BYTES',
    'diffPlugins',
    'parseConfig',
    'readConfig',
    'rolloutKey',
  ],
  '@glean/core/integrity': [
    'DEFAULT_INTEGRITY_ALGORITHM',
    'IntegrityAlgorithm',
    'hashForIntegrity',
    'parseIntegrity',
    'verifyIntegrity',
  ],
  '@glean/core/metrics': ['CallOutcome', 'DEFAULT_CALL_BUCKETS', 'METRIC_NAMES', 'registerMetrics'],
  '@glean/core/limits': [
    'CANARY_CRASH_LIMIT',
    'CHILD_GRACE_MS',
    'CHILD_KILL_WAIT_MS',
    'CRASH_LIMIT',
    'CRASH_WINDOW_MS',
    'EXIT_TIMEOUT_MS',
    'FIRST_RESTART_DELAY_MS',
    'LIVENESS_GRACE_MS',
    'MAX_CONFIG_BYTES',
    'MAX_PLUGIN_FILE_BYTES',
    'MAX_RESTART_DELAY_MS',
    'P99_FLOOR_MS',
    'REAP_WAIT_MS',
    'ROUTE_BUCKETS',
    'START_TIMEOUT_MS',
    'STREAM_IDLE_TIMEOUT_MS',
    'STREAM_WINDOW',
  ],
} as const;

describe('public API', () => {
  test.each(Object.entries(ENTRIES))('%s exports exactly its documented values', async (entry, names) => {
    const module = (await import(entry)) as Record<string, unknown>;
    expect(Object.keys(module).sort()).toEqual([...names].sort());
    for (const name of names) expect(module[name], name).toBeDefined();
  });

  test('the limits are the numbers the docs give', async () => {
    const limits = await import('@glean/core/limits');
    expect(limits).toMatchObject({
      CHILD_GRACE_MS: 2_000,
      CHILD_KILL_WAIT_MS: 1_000,
      CRASH_LIMIT: 5,
      CRASH_WINDOW_MS: 60_000,
      EXIT_TIMEOUT_MS: 1_000,
      LIVENESS_GRACE_MS: 1_000,
      MAX_CONFIG_BYTES: 16 * 1024 * 1024,
      MAX_PLUGIN_FILE_BYTES: 64 * 1024 * 1024,
      STREAM_IDLE_TIMEOUT_MS: 60_000,
      STREAM_WINDOW: 64,
      CANARY_CRASH_LIMIT: 5,
      P99_FLOOR_MS: 25,
      ROUTE_BUCKETS: 10_000,
    });
  });
});
