/**
 * `@glean/core/limits` — the fixed numbers of glean's behaviour, for an application that shows or
 * checks them: when a crashing version gives up, how long a stuck or terminated worker is waited
 * for, how long a plugin's child processes get to end, the largest files glean reads, and how far a
 * streamed result runs ahead of its reader, and the fixed parts of a canary's analysis and routing.
 *
 * @module @glean/core/limits
 */
export { CRASH_LIMIT, CRASH_WINDOW_MS, FIRST_RESTART_DELAY_MS, MAX_RESTART_DELAY_MS } from './crash-policy.js';
export { EXIT_TIMEOUT_MS, LIVENESS_GRACE_MS, REAP_WAIT_MS, START_TIMEOUT_MS } from './slot.js';
export { STREAM_IDLE_TIMEOUT_MS, STREAM_WINDOW } from './stream.js';
export { CHILD_GRACE_MS, CHILD_KILL_WAIT_MS } from '@glean/worker/proc';
export { MAX_CONFIG_BYTES, MAX_PLUGIN_FILE_BYTES } from './read-file.js';
export { CANARY_CRASH_LIMIT, P99_FLOOR_MS } from './rollout/analysis.js';
export { ROUTE_BUCKETS } from './rollout/route.js';
