/**
 * npm run fleet: a fleet of replicas switching versions, with and without `activateAt`.
 *
 * Starts 4 replicas of the demo server (examples/httpserver/server.mjs), each a process of its own
 * on a loopback port, behind HAProxy; each reads its own ConfigMap-style folder (`plugin.json` →
 * `..data/plugin.json`, `..data` → a timestamped folder), which a simulated kubelet updates with the
 * atomic `..data` symlink swap, one replica after another, spread over 5 seconds, as kubelets do. Load
 * (autocannon) goes through HAProxy throughout, and every answer's body names the version that gave
 * it. Two runs, v1 → v2 each, on fresh replicas: the config without `activateAt` (every replica
 * switches when its folder changes), then with an `activateAt` after the last update (every replica
 * loads v2 when its folder changes and switches at the time). Per run it prints the requests, failed
 * requests, non-2xx answers, the window in which both versions answered, and the spread of the
 * replicas' switch times (read from the `reload` and `activate` events each replica prints as a JSON
 * line, DEMO_EVENTS=json).
 *
 *   npm run fleet                 (HAProxy must be installed: apt-get install -y haproxy)
 *
 * Every process it starts (the replicas, HAProxy) ends when it ends: done, failed, or Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SERVER = join(REPO, 'examples/httpserver/server.mjs');

const REPLICAS = 4;
/** The kubelets' spread: the first replica's folder is updated at UPDATE_START_MS, the last this much later. */
const KUBELET_SPREAD_MS = 5000;
/** When, after the load starts, the first folder is updated. */
const UPDATE_START_MS = 1500;
/** The `activateAt` of the second run: this long after the last update. */
const ACTIVATE_AFTER_LAST_MS = 1500;
/** How long the load runs, from its start. */
const LOAD_MS = 11_000;
/**
 * Connections of the load, each sending its next request when the last is answered. No rate limit:
 * autocannon's sends each second's share in a burst as the second begins, and the gaps between bursts
 * would hide when the versions changed.
 */
const CONNECTIONS = 4;
/** How long a process may take to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;

/** Every process started and not yet exited. */
const children = new Set();
/** The temp folders of the runs under way, removed after their processes end. */
const folders = new Set();

/** Starts a process that ends with this script, whatever ends it. */
function startProcess(command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('exit', () => children.delete(child));
  child.output = '';
  child.stderr.setEncoding('utf8').on('data', (text) => (child.output += text));
  return child;
}

/** SIGTERM to every process still running, SIGKILL to those still there after STOP_GRACE_MS; resolves once all have exited. */
async function stopAll() {
  const running = [...children];
  for (const child of running) child.kill('SIGTERM');
  const killer = setTimeout(() => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await Promise.all(running.map((child) => child.exited));
  clearTimeout(killer);
}

// An exit however it comes (an uncaught error included) takes the processes with it.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the replicas and the load balancer`);
    void stopAll()
      .then(() => Promise.all([...folders].map((folder) => rm(folder, { recursive: true, force: true }))))
      .finally(() => process.exit(130));
  });
}

/** HAProxy's version line, or undefined when it is not installed. */
function haproxyVersion() {
  const result = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0] : undefined;
}

/** A free loopback port (the next process binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `condition()` is true, checking every 20 ms; rejects naming `what` after `timeoutMs`. */
async function until(condition, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (interrupted) throw new Error('interrupted');
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A plugin for the demo's FooHandlerID whose every answer names its version. */
const handler = (version) => `export function FooHandler() {
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: '${version}\\n' };
}
`;

/** The demo's config naming `version`'s plugin, with an `activateAt` when given. */
function configText(plugins, version, activateAt) {
  const entry = { id: 'FooHandlerID', file: join(plugins, `${version}.mjs`), name: 'FooHandler', version };
  return `${JSON.stringify({ ...(activateAt !== undefined && { activateAt }), plugins: [entry] }, null, 2)}\n`;
}

/**
 * A folder laid out as the kubelet lays out a ConfigMap volume, and its update: the new content in a
 * new timestamped folder, a `..data_tmp` link to it renamed over `..data` (one atomic step), the old
 * folder removed.
 */
async function configMapFolder(dir, content) {
  let generation = 0;
  let current;
  const publish = async (text) => {
    const stamp = `..${new Date().toISOString().replace(/[-:T.Z]/g, '_')}${generation++}`;
    await mkdir(join(dir, stamp), { recursive: true });
    await writeFile(join(dir, stamp, 'plugin.json'), text);
    await symlink(stamp, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    if (current !== undefined) await rm(join(dir, current), { recursive: true, force: true });
    current = stamp;
  };
  await publish(content);
  await symlink('..data/plugin.json', join(dir, 'plugin.json'));
  return { configPath: join(dir, 'plugin.json'), publish };
}

/** One replica: the demo server over its own ConfigMap folder, its port, and the events it printed. */
async function startReplica(index, temp, plugins) {
  const folder = await configMapFolder(join(temp, `replica-${index}`), configText(plugins, 'v1'));
  const child = startProcess(process.execPath, [SERVER], {
    cwd: REPO,
    env: { ...process.env, PORT: '0', DEMO_CONFIG: folder.configPath, DEMO_ROOT: temp, DEMO_EVENTS: 'json' },
  });
  const events = [];
  let port;
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    child.output += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (line.startsWith('{')) events.push(JSON.parse(line));
      port ??= /http:\/\/localhost:(\d+)\/foo/.exec(line)?.[1];
    }
  });
  await until(() => {
    if (child.exitCode !== null)
      throw new Error(`replica ${index} exited with code ${child.exitCode}:\n${child.output}`);
    return port !== undefined;
  }, `replica ${index} to listen`);
  return { index, child, port: Number(port), events, publish: folder.publish };
}

/** HAProxy in front of the replicas, round robin, health-checked on the status route when the demo serves it. */
async function startBalancer(temp, replicas) {
  const port = await freePort();
  const status = await fetch(`http://127.0.0.1:${replicas[0].port}/glean/status`).catch(() => undefined);
  const check = status?.status === 200 ? '  option httpchk GET /glean/status\n' : '';
  const config = `global
  maxconn 2000

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s

frontend fleet
  bind 127.0.0.1:${port}
  default_backend replicas

backend replicas
  balance roundrobin
${check}${replicas.map(({ index, port: at }) => `  server replica-${index} 127.0.0.1:${at} check inter 500ms\n`).join('')}`;
  const file = join(temp, 'haproxy.cfg');
  await writeFile(file, config);
  const child = startProcess('haproxy', ['-db', '-f', file]);
  child.stdout.setEncoding('utf8').on('data', (text) => (child.output += text));
  const url = `http://127.0.0.1:${port}/foo`;
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited with code ${child.exitCode}:\n${child.output}`);
    const answer = await fetch(url).catch(() => undefined);
    return answer?.status === 200 && (await answer.text()) === 'v1\n';
  }, 'haproxy to answer');
  return { child, url, healthCheck: check === '' ? 'TCP connect' : 'GET /glean/status' };
}

/** One run: fresh replicas on v1, load through the balancer, the kubelet's updates to v2, the figures. */
async function run(name, withActivateAt) {
  const temp = await mkdtemp(join(os.tmpdir(), 'glean-fleet-'));
  folders.add(temp);
  try {
    const plugins = join(temp, 'plugins');
    await mkdir(plugins);
    for (const version of ['v1', 'v2']) await writeFile(join(plugins, `${version}.mjs`), handler(version));
    const replicas = await Promise.all(Array.from({ length: REPLICAS }, (_, i) => startReplica(i, temp, plugins)));
    const balancer = await startBalancer(temp, replicas);

    const answers = { v1: 0, v2: 0, other: 0 };
    let firstV2;
    let lastV1;
    const load = autocannon({
      url: balancer.url,
      connections: CONNECTIONS,
      duration: LOAD_MS / 1000,
      requests: [
        {
          method: 'GET',
          onResponse: (status, body) => {
            const now = Date.now();
            if (status !== 200) return;
            if (body === 'v1\n') {
              answers.v1++;
              lastV1 = now;
            } else if (body === 'v2\n') {
              answers.v2++;
              firstV2 ??= now;
            } else answers.other++;
          },
        },
      ],
    });
    const start = Date.now();
    const lastUpdate = start + UPDATE_START_MS + KUBELET_SPREAD_MS;
    const activateAt = withActivateAt ? new Date(lastUpdate + ACTIVATE_AFTER_LAST_MS).toISOString() : undefined;
    const updates = replicas.map(
      (replica) =>
        new Promise((resolve, reject) => {
          const offset = UPDATE_START_MS + (KUBELET_SPREAD_MS * replica.index) / (REPLICAS - 1);
          setTimeout(() => {
            const at = Date.now();
            replica.publish(configText(plugins, 'v2', activateAt)).then(() => resolve(at), reject);
          }, offset);
        }),
    );
    const [result, updatedAt] = await Promise.all([load, Promise.all(updates)]);
    await until(() => replicas.every((replica) => switchOf(replica) !== undefined), 'every replica to switch', 10_000);

    const switches = replicas.map((replica) => switchOf(replica));
    const times = switches.map(({ at }) => at);
    return {
      name,
      activateAt,
      healthCheck: balancer.healthCheck,
      requests: result.requests.total,
      failed: result.errors + result.timeouts,
      non2xx: result.non2xx,
      answers,
      bothWindowMs: firstV2 === undefined || lastV1 === undefined ? 0 : Math.max(0, lastV1 - firstV2),
      firstV2: firstV2 === undefined ? undefined : firstV2 - start,
      lastV1: lastV1 === undefined ? undefined : lastV1 - start,
      spreadMs: Math.max(...times) - Math.min(...times),
      replicas: replicas.map((replica, i) => ({
        index: replica.index,
        updated: updatedAt[i] - start,
        switched: switches[i].at - start,
        lateMs: switches[i].lateMs,
      })),
    };
  } finally {
    await stopAll();
    await rm(temp, { recursive: true, force: true });
    folders.delete(temp);
  }
}

/** When a replica switched to v2: its `activate` event's switchedAt, else its `reload` event's time. */
function switchOf({ events }) {
  const activate = events.find((event) => event.event === 'activate');
  if (activate !== undefined) return { at: activate.switchedAt, lateMs: activate.lateMs };
  const reload = events.find((event) => event.event === 'reload' && event.to === 'v2');
  return reload === undefined ? undefined : { at: reload.at, lateMs: undefined };
}

const seconds = (ms) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(3)} s`);

function report(run) {
  console.log(`\n## ${run.name}${run.activateAt === undefined ? '' : ` (activateAt ${run.activateAt})`}\n`);
  console.log(`health check    ${run.healthCheck} (HAProxy, every 500 ms)`);
  console.log(
    `requests        ${run.requests} (v1 ${run.answers.v1}, v2 ${run.answers.v2}, other ${run.answers.other})`,
  );
  console.log(`failed          ${run.failed}`);
  console.log(`non-2xx         ${run.non2xx}`);
  console.log(
    `both answered   ${run.bothWindowMs} ms (first v2 answer at ${seconds(run.firstV2)}, last v1 answer at ${seconds(run.lastV1)})`,
  );
  console.log(`switch spread   ${run.spreadMs} ms`);
  console.log('\nreplica  folder updated  switched   lateMs');
  for (const replica of run.replicas)
    console.log(
      `${String(replica.index).padEnd(9)}${seconds(replica.updated).padEnd(16)}${seconds(replica.switched).padEnd(11)}${replica.lateMs ?? '-'}`,
    );
}

async function main() {
  const haproxy = haproxyVersion();
  if (haproxy === undefined) {
    console.error(`npm run fleet needs HAProxy, the load balancer in front of the replicas, and found none on the PATH.
Install it from your distribution's packages, then run it again:
  Debian, Ubuntu:  sudo apt-get update && sudo apt-get install -y haproxy
  Fedora, RHEL:    sudo dnf install -y haproxy
  macOS:           brew install haproxy`);
    process.exitCode = 1;
    return;
  }
  const cpus = os.cpus();
  console.log(
    `# npm run fleet: ${REPLICAS} replicas behind HAProxy, the kubelet's updates spread over ${KUBELET_SPREAD_MS / 1000} s`,
  );
  console.log(
    `\n${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.release()}; Node ${process.version}; ${haproxy}`,
  );
  console.log(
    `load: autocannon, ${CONNECTIONS} connections, no rate limit, for ${LOAD_MS / 1000} s; folders updated from ${seconds(UPDATE_START_MS)} on; load average ${os.loadavg()[0].toFixed(2)}`,
  );
  const runs = [];
  for (const [name, withActivateAt] of [
    ['without activateAt', false],
    ['with activateAt', true],
  ]) {
    const result = await run(name, withActivateAt);
    report(result);
    runs.push(result);
  }
  const [plain, timed] = runs;
  const goals = [
    ['0 failed and 0 non-2xx in both runs', runs.every(({ failed, non2xx }) => failed === 0 && non2xx === 0)],
    ['with activateAt, the switch spread at most 50 ms', timed.spreadMs <= 50],
  ];
  console.log(`\n## goals\n`);
  for (const [goal, met] of goals) console.log(`${met ? 'met    ' : 'MISSED '} ${goal}`);
  console.log(`(without activateAt the spread was ${plain.spreadMs} ms, the kubelets' being ${KUBELET_SPREAD_MS} ms)`);
  if (goals.some(([, met]) => !met)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  if (!interrupted) {
    console.error(error);
    process.exitCode = 1;
  }
} finally {
  await stopAll();
}
