/**
 * Round-robin interleaving shared by every benchmark: each round runs each contender once, in an
 * order rotated from round to round, so a slow spell of the machine (another process, a VM steal)
 * hits all of them alike and none always runs first or right after the same neighbour.
 */

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
