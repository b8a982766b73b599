/**
 * The http benchmark: requests per second of a CPU-bound hot HTTP handler (chained SHA-256 over a
 * 64 KB body, plugins/hash/index.mjs) served by glean on threads: 1 and threads: 2, next to the same
 * handler called in-process; and, one request at a time, what the hop to a worker adds to each
 * request. The servers run in a child process (bench/lib/http-server.mjs), the load (autocannon) here;
 * contenders are interleaved round by round, so a slow spell of the machine hits them all alike.
 *
 * The handler runs at two weights (SHA-256 rounds per request). What threads: 2 can gain over
 * threads: 1 on two cores depends on it: every request also costs CPU outside the handler (HTTP on
 * the main thread, the load generator), and that share of the two cores is not the workers'. So
 * the handler's own CPU time and each process's CPU per request are measured and reported too.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { hash } from '../plugins/hash/index.mjs';
import { cpuSince } from './lib/cpu.mjs';
import { fixed, grouped, times } from './lib/format.mjs';
import { timeSequential } from './lib/measure.mjs';
import { rotated } from './lib/rounds.mjs';
import { median, pairedDifference, pairedRatio, summarize } from './lib/stats.mjs';

export const name = 'http';

/** Rounds, seconds of load per contender and round, connections, and requests per latency round. */
const PLANS = {
  full: {
    warmupRounds: 1,
    rounds: 5,
    seconds: 3,
    connections: 8,
    sequential: 300,
    bodyBytes: 64 * 1024,
    weights: [16, 64],
  },
  quick: {
    warmupRounds: 1,
    rounds: 2,
    seconds: 2,
    connections: 8,
    sequential: 100,
    bodyBytes: 64 * 1024,
    weights: [16, 64],
  },
};

const CONTENDERS = [
  { key: 'inprocess', label: 'same handler in-process (main thread)' },
  { key: 'threads1', label: 'glean hot handler, threads: 1' },
  { key: 'threads2', label: 'glean hot handler, threads: 2' },
];

/** Runs both phases and returns the figures (plain data, written as JSON). */
export async function run({ quick, log }) {
  const plan = quick ? PLANS.quick : PLANS.full;
  const body = randomBytes(plan.bodyBytes);
  const server = await startServers();
  try {
    await checkSameAnswers(server.ports, body);
    const handlerUs = Object.fromEntries(plan.weights.map((weight) => [weight, timeHandler(body, weight)]));
    const throughput = {};
    for (const weight of plan.weights) {
      log(
        `http: /hash?rounds=${weight}, ${plan.connections} connections, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${plan.seconds} s per contender`,
      );
      throughput[weight] = await runThroughput(server, body, weight, plan, log);
    }
    log(
      `http: one request at a time, ${plan.warmupRounds} warm-up + ${plan.rounds} rounds of ${plan.sequential} requests per contender and route`,
    );
    const latency = await runLatency(server.ports, body, plan.weights[0], plan);
    return { plan, contenders: CONTENDERS, handlerUs, throughput, latency };
  } finally {
    await server.stop();
  }
}

/**
 * CPU µs one call of the handler costs by itself, no HTTP: the median of 9 batches of 50 calls after
 * a warm-up batch. CPU time, not wall time: other load on the machine stretches the one, not the other.
 */
function timeHandler(body, weight) {
  const request = { method: 'POST', url: `/hash?rounds=${weight}`, headers: {}, body };
  const batches = [];
  for (let batch = -1; batch < 9; batch++) {
    const start = process.cpuUsage();
    for (let i = 0; i < 50; i++) hash(request);
    const cpu = cpuSince(start);
    if (batch >= 0) batches.push(cpu / 50);
  }
  return median(batches);
}

/** Forks bench/lib/http-server.mjs and resolves once its three servers listen. */
async function startServers() {
  const child = fork(new URL('./lib/http-server.mjs', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const next = () =>
    new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`bench/lib/http-server.mjs exited with code ${code}`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  const { ports } = await next();
  return {
    ports,
    /** The server process's CPU time so far (user + system, every thread), in µs. */
    cpu: async () => {
      const answer = next();
      child.send('cpu');
      const { cpu } = await answer;
      return cpu.user + cpu.system;
    },
    stop: async () => {
      if (child.connected) child.send('stop');
      await exited;
    },
  };
}

/** The three contenders must compute the same thing, or the comparison means nothing. */
async function checkSameAnswers(ports, body) {
  const answers = await Promise.all(CONTENDERS.map(({ key }) => client(ports[key])('POST', '/hash', body)));
  if (new Set(answers).size !== 1) throw new Error(`the contenders disagree on the digest: ${answers.join(', ')}`);
}

/** A keep-alive client for one port: `(method, path, body?) => Promise<text>`; rejects on a status other than 200. */
function client(port) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const headers =
        body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': body.byteLength };
      const sent = request({ host: '127.0.0.1', port, method, path, agent, headers }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode === 200) resolve(text);
          else reject(new Error(`${method} ${path} on port ${port} answered ${response.statusCode}: ${text}`));
        });
      });
      sent.on('error', reject);
      sent.end(body);
    });
}

/** One autocannon run; rejects if any request failed, since a failed request is not a fast one. */
function cannon(port, body, weight, plan) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}/hash?rounds=${weight}`,
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body,
        connections: plan.connections,
        duration: plan.seconds,
      },
      (error, result) => {
        if (error) reject(error);
        else if (result.errors + result.timeouts + result.non2xx > 0) {
          reject(
            new Error(
              `port ${port}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} answers other than 2xx`,
            ),
          );
        } else resolve(result);
      },
    );
  });
}

/**
 * Requests per second under load, per round, with the CPU µs per request of the server process
 * (main thread and workers) and of this one (the load generator).
 */
async function runThroughput(server, body, weight, plan, log) {
  const perRound = new Map(CONTENDERS.map(({ key }) => [key, { rps: [], cpu: [], client: [] }]));
  for (let round = -plan.warmupRounds; round < plan.rounds; round++) {
    for (const { key } of rotated(CONTENDERS, round)) {
      const before = await server.cpu();
      const client = process.cpuUsage();
      const result = await cannon(server.ports[key], body, weight, plan);
      const clientCpu = cpuSince(client);
      const cpu = (await server.cpu()) - before;
      const total = result.requests.total;
      if (round < 0) continue;
      perRound.get(key).rps.push(total / result.duration);
      perRound.get(key).cpu.push(cpu / total);
      perRound.get(key).client.push(clientCpu / total);
    }
    if (round >= 0)
      log(
        `http: round ${round + 1}/${plan.rounds}: ${CONTENDERS.map(({ key }) => `${key} ${grouped(perRound.get(key).rps.at(-1))}/s`).join(', ')}`,
      );
  }
  const { rps: inprocess } = perRound.get('inprocess');
  const { rps: threads1 } = perRound.get('threads1');
  return Object.fromEntries(
    CONTENDERS.map(({ key }) => {
      const { rps, cpu, client } = perRound.get(key);
      return [
        key,
        {
          medianRequestsPerSecond: median(rps),
          vsThreads1: pairedRatio(rps, threads1),
          vsInprocess: pairedRatio(rps, inprocess),
          serverCpuUsPerRequest: median(cpu),
          clientCpuUsPerRequest: median(client),
          roundRequestsPerSecond: rps,
          roundServerCpuUsPerRequest: cpu,
          roundClientCpuUsPerRequest: client,
        },
      ];
    }),
  );
}

/** p50 µs of /hash and /hello one request at a time, and how much more each takes than in-process, per round. */
async function runLatency(ports, body, weight, plan) {
  const clients = Object.fromEntries(CONTENDERS.map(({ key }) => [key, client(ports[key])]));
  const scratch = new Float64Array(plan.sequential);
  const perRound = new Map(CONTENDERS.map(({ key }) => [key, { hash: [], hello: [] }]));
  for (let round = -plan.warmupRounds; round < plan.rounds; round++) {
    for (const { key } of rotated(CONTENDERS, round)) {
      for (const route of ['hash', 'hello']) {
        const call =
          route === 'hash'
            ? () => clients[key]('POST', `/hash?rounds=${weight}`, body)
            : () => clients[key]('GET', '/hello');
        await timeSequential(call, plan.sequential, scratch);
        if (round >= 0) perRound.get(key)[route].push(summarize(scratch).p50);
      }
    }
  }
  const base = perRound.get('inprocess');
  const figures = Object.fromEntries(
    CONTENDERS.map(({ key }) => {
      const { hash, hello } = perRound.get(key);
      return [
        key,
        {
          hashP50Us: median(hash),
          helloP50Us: median(hello),
          hashOverheadUs: pairedDifference(hash, base.hash),
          helloOverheadUs: pairedDifference(hello, base.hello),
          roundHashP50Us: hash,
          roundHelloP50Us: hello,
        },
      ];
    }),
  );
  return { weight, ...figures };
}

/** The figures as printable tables: throughput first, then latency. */
export function tables(figures) {
  const { plan, contenders, handlerUs, throughput, latency } = figures;
  const load = {
    title: `POST /hash (${plan.bodyBytes / 1024} KB body), ${plan.connections} connections: requests/s, median of ${plan.rounds} rounds × ${plan.seconds} s (higher is better)`,
    columns: [
      'handler',
      'contender',
      'requests/s',
      '× threads: 1',
      '× in-process',
      'round range',
      'server CPU µs/req',
      'load CPU µs/req',
    ],
    rows: plan.weights.flatMap((weight) =>
      contenders.map(({ key, label }) => {
        const t = throughput[weight][key];
        const range = `${grouped(Math.min(...t.roundRequestsPerSecond))}–${grouped(Math.max(...t.roundRequestsPerSecond))}`;
        const cells = [
          grouped(t.medianRequestsPerSecond),
          times(t.vsThreads1),
          times(t.vsInprocess),
          range,
          fixed(t.serverCpuUsPerRequest, 0),
          fixed(t.clientCpuUsPerRequest, 0),
        ];
        return [`${weight} SHA-256 rounds`, label, ...cells];
      }),
    ),
    note: [
      '× columns: median over rounds of the ratio to the other contender measured in the same round.',
      'server CPU: the server process (main thread and workers) per request; load CPU: the load generator (autocannon, this process) per request.',
      ...plan.weights.map((weight) => {
        const t2 = throughput[weight].threads2;
        const total = t2.serverCpuUsPerRequest + t2.clientCpuUsPerRequest;
        return `${weight} rounds: with threads: 2 a request costs ${fixed(total, 0)} µs of CPU in all, ${fixed((100 * handlerUs[weight]) / total, 0)}% of it the handler's own (${fixed(handlerUs[weight], 0)} µs alone); the rest shares the two cores with the workers.`;
      }),
    ].join('\n'),
  };
  const oneByOne = {
    title: `One request at a time (keep-alive): p50 µs, median of ${plan.rounds} rounds × ${plan.sequential} requests; /hash with ${latency.weight} rounds`,
    columns: ['contender', '/hash p50 µs', '/hash − in-process µs', '/hello p50 µs', '/hello − in-process µs'],
    rows: contenders.map(({ key, label }) => {
      const l = latency[key];
      return [
        label,
        fixed(l.hashP50Us, 0),
        fixed(l.hashOverheadUs, 0),
        fixed(l.helloP50Us, 0),
        fixed(l.helloOverheadUs, 0),
      ];
    }),
    note: '− in-process: what the hop to a worker adds to a request (median over rounds of the per-round difference of p50s); /hello does nothing, so it is the hop alone.',
  };
  return [load, oneByOne];
}
