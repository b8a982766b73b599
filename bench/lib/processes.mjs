/**
 * What Linux's /proc says about this process's children and threads: the CPU and memory of a child
 * process that Node's own counters (process.cpuUsage, process.resourceUsage: RUSAGE_SELF) never
 * include. Linux only; elsewhere every list is empty and every figure undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Clock ticks a second, the unit of /proc's CPU times: USER_HZ, 100 on Linux for x86 and arm64
 * (`getconf CLK_TCK`); asking getconf would start a process in every measured one.
 */
const TICKS = 100;

/** The resolution of the CPU times below, in ms. */
export const CPU_TICK_MS = 1000 / TICKS;

const read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** /proc/<pid>/stat's fields after the command name, which may hold spaces; field 3 is index 0. */
function statFields(pid) {
  const stat = read(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU ms of process `pid`: the sum of its threads' /proc/<pid>/task/<tid>/schedstat run times (ns)
 * where the kernel keeps them, else /proc/<pid>/stat's user + system ticks. The first leaves out
 * threads that have ended, the second has a resolution of {@link CPU_TICK_MS}.
 */
export function processCpuMs(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const schedstat = read(`/proc/${pid}/task/${task}/schedstat`);
      if (schedstat === undefined) throw new Error('no schedstat');
      ns += Number(schedstat.split(' ')[0]);
    }
    return ns / 1e6;
  } catch {
    const fields = statFields(pid);
    return fields === undefined ? undefined : ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  }
}

/**
 * CPU ms of this process's children that have ended and been waited for, with their own waited-for
 * children (getrusage RUSAGE_CHILDREN, which Node does not expose).
 */
export function endedChildrenCpuMs() {
  const fields = statFields('self');
  return fields === undefined ? undefined : ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
}

/** Resident memory of process `pid` in bytes (VmRSS). */
export function processRss(pid) {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(read(`/proc/${pid}/status`) ?? '');
  return kib === null ? undefined : Number(kib[1]) * 1024;
}

/** How many threads this process has now. */
export function threadCount() {
  const count = /^Threads:\s+(\d+)$/m.exec(read('/proc/self/status') ?? '');
  return count === null ? undefined : Number(count[1]);
}

/** The live descendants of process `pid` (children, their children…), each `{ pid, command, cpuMs, rss }`. */
export function descendants(pid = process.pid) {
  let entries;
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const parents = new Map();
  for (const entry of entries) {
    const fields = statFields(entry);
    // A zombie has ended; it is still listed until its parent waits for it.
    if (fields !== undefined && fields[0] !== 'Z') parents.set(Number(entry), Number(fields[1]));
  }
  const found = [];
  const wanted = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (wanted.has(parent) && !wanted.has(child)) {
        wanted.add(child);
        found.push(child);
        grew = true;
      }
    }
  }
  return found.map((child) => ({
    pid: child,
    command: (read(`/proc/${child}/cmdline`) ?? '').split('\0').filter(Boolean).join(' '),
    cpuMs: processCpuMs(child),
    rss: processRss(child),
  }));
}
