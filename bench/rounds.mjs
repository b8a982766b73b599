/**
 * Round-robin interleaving shared by every benchmark: each round runs each contender once, in an
 * order rotated from round to round, so a slow spell of the machine (another process, a VM steal)
 * hits all of them alike and none always runs first or right after the same neighbour.
 */
import { performance } from 'node:perf_hooks';

/** `list` rotated left by `round` places (negative rounds too). */
export function rotated(list, round) {
  const shift = ((round % list.length) + list.length) % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

/**
 * Calls `measure(contender, round)` for every contender, round by round; the `warmupRounds`
 * rounds come first and are numbered below 0, so `measure` can run them and throw the figures away.
 */
export async function interleave(contenders, { warmupRounds, rounds }, measure) {
  for (let round = -warmupRounds; round < rounds; round++) {
    for (const contender of rotated(contenders, round)) await measure(contender, round);
  }
}

/**
 * Resolves once this process (all its threads) used less than `share` of one CPU over a window of
 * `windowMs`, or after `maxMs`: work a reload leaves behind (a retiring version, a thread started
 * ahead of time for the next one) is then done before the next reload starts. Other processes do
 * not count, so a busy machine does not hold it up. Resolves `true` if it got quiet in time.
 */
export async function quiet({ windowMs = 25, share = 0.1, maxMs = 5000 } = {}) {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const { user, system } = process.cpuUsage(cpu);
    if ((user + system) / 1000 < share * (performance.now() - start)) return true;
    if (performance.now() > deadline) return false;
  }
}
