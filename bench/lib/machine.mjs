/** What the figures were measured on and which glean was measured, for the output's first lines and every results file. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** The checkout this harness sits in (bench/lib/ is two folders down). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The machine, Node, the load, the date and the glean measured; `pinned` says whether the run was confined to one CPU. */
export function machineInfo(pinned) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    // Honours the CPU affinity, so it shows 1 under `taskset -c 0`.
    availableParallelism: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    pinned,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    // Other work on the machine shows up as spread between rounds; this says how much there was.
    loadAverage1m: os.loadavg()[0],
    date: new Date().toISOString(),
    source: sourceInfo(),
  };
}

/**
 * Which glean was measured: the commit of the checkout, whether its packages/ differ from that
 * commit (others may be editing them), and the built entry loaded.
 */
function sourceInfo() {
  const git = (...args) => {
    const result = spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const status = git('status', '--porcelain', '--', 'packages');
  return {
    commit: git('rev-parse', '--short', 'HEAD') ?? 'unknown',
    packagesModified: status === undefined ? undefined : status.length > 0,
    core: fileURLToPath(import.meta.resolve('@glean/core')),
  };
}
