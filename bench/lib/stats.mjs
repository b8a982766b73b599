/** Pure summaries of samples; no timing, no threads. */

/** The value at quantile `q` (0..1) of ascending `sorted`, by nearest rank. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** Median of any list of numbers (not modified). */
export function median(values) {
  return quantile(Float64Array.from(values).sort(), 0.5);
}

/** p50, p99 and the extremes of a list of numbers (not modified). */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    count: sorted.length,
  };
}

/**
 * The median over rounds of `values[i] / floor[i]`: each contender is compared with the floor as
 * measured in the same round, moments apart, so load that comes and goes cancels out.
 */
export function pairedRatio(values, floor) {
  return median(values.map((value, i) => value / floor[i]));
}

/** The figures of a throughput contender from its rounds: median, extremes, CPU per call, and every round. */
export function throughputOf(callsPerSecond, cpuUsPerCall) {
  return {
    medianCallsPerSecond: median(callsPerSecond),
    cpuUsPerCall: median(cpuUsPerCall),
    minCallsPerSecond: Math.min(...callsPerSecond),
    maxCallsPerSecond: Math.max(...callsPerSecond),
    roundCallsPerSecond: callsPerSecond,
    roundCpuUsPerCall: cpuUsPerCall,
  };
}

/** Median over rounds of `a[i] - b[i]`: what one contender costs more than another, moments apart. */
export function pairedDifference(a, b) {
  return median(a.map((value, i) => value - b[i]));
}

/**
 * The figures of a one-call-at-a-time contender from its rounds (`{ p50, p99, cpu }`, one value per
 * round) against the floor's rounds: medians, the ratios taken round by round, and every round.
 */
export function latencyOf({ p50, p99, cpu }, floor) {
  return {
    p50Us: median(p50),
    p99Us: median(p99),
    p50VsFloor: pairedRatio(p50, floor.p50),
    p99VsFloor: pairedRatio(p99, floor.p99),
    cpuUsPerCall: median(cpu),
    roundP50Us: p50,
    roundP99Us: p99,
    roundCpuUsPerCall: cpu,
  };
}
