/** CPU time of this whole process (the host thread and every worker thread), which barely moves with other load on the machine. */

/** CPU µs (user + system, every thread of this process) used since `since`, a `process.cpuUsage()` value. */
export function cpuSince(since) {
  const { user, system } = process.cpuUsage(since);
  return user + system;
}
