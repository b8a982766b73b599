/**
 * The two timing loops of the calls benchmark. They know nothing of the contenders.
 *
 * Besides wall time, each loop reports the CPU time the whole process (host and worker threads)
 * spent per call. Wall time on a shared machine moves with everyone else's load; CPU time per call
 * barely does, so it says what a path costs even when the clock is noisy.
 */
import { performance } from 'node:perf_hooks';
import { cpuSince } from './cpu.mjs';

/**
 * Makes `count` calls one after another and writes each call's duration in µs to `into`,
 * starting at `offset`. The next call starts only when the previous one has resolved, so this
 * is the latency a caller sees when nothing else is going on. Returns CPU µs per call.
 */
export async function timeSequential(call, count, into, offset = 0) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call(i, 1);
    into[offset + i] = (performance.now() - start) * 1000;
  }
  return cpuSince(cpu) / count;
}

/**
 * Makes `total` calls with `depth` of them always in flight; returns calls per second and CPU µs
 * per call. Each of `depth` lanes starts its next call as soon as its last one resolved, so the
 * contender is never short of work and never sees more than `depth` at once.
 */
export async function timeInFlight(call, total, depth) {
  let started = 0;
  const lane = async () => {
    while (started < total) {
      started++;
      await call(started, 1);
    }
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(depth, total) }, lane));
  const seconds = (performance.now() - start) / 1000;
  return { callsPerSecond: total / seconds, cpuUsPerCall: cpuSince(cpu) / total };
}
