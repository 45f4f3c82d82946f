import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Engine } from '../src/core/docker/engine';
import { PortForwarder } from '../src/core/ports/portForwarder';
import { ensureNetwork, TEST_LABEL, TEST_NETWORK } from '../test/support/testEnv';

/**
 * `npm run bench:forward`: HTTP requests to a server in a container, straight
 * to the container's address and through gitiso's PortForwarder on 127.0.0.1,
 * alternated over several rounds. BENCH_REPS rounds (default 3) of
 * BENCH_FORWARD_SECONDS (default 5); BENCH_SMOKE=1 runs a tiny version.
 */

const SERVER_PORT = 3000;
const CONNECTIONS = 8;
const TARGET_THROUGHPUT_LOSS_PERCENT = 10;
const TARGET_ADDED_MEDIAN_MS = 0.2;
/** Argument that makes this file, forked, run only the forwarder (see runForwarderChild). */
const FORWARDER_CHILD_ARG = '--forwarder-child';

/**
 * Keep-alive HTTP/1.1 server answering every GET with the same few bytes, in
 * one write with Nagle off, so the server adds no delay of its own.
 */
const SERVER_SCRIPT = `
import http.server
BODY = b'ok\\n'
RESPONSE = b'HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: %d\\r\\n\\r\\n%s' % (len(BODY), BODY)
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    def do_GET(self):
        self.wfile.write(RESPONSE)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(('0.0.0.0', ${SERVER_PORT}), Handler).serve_forever()
`;

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly medianMs: number;
  readonly p90Ms: number;
}

interface RoundResult {
  readonly way: Way;
  readonly round: number;
  readonly loaded: LoadFigures;
  readonly sequential: LoadFigures;
  /** CPU time (user + system) the forwarder process spent per request under load; forwarded only. */
  readonly forwarderCpuMicrosPerRequest?: number;
}

type Way = 'direct' | 'forwarded';

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One GET over `agent`; resolves when the whole body has arrived. */
function get(agent: Agent, endpoint: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: endpoint.host, port: endpoint.port, path: '/', agent, timeout: 5_000 }, (res) => {
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
      res.resume();
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * `connections` keep-alive connections, each sending its next request as soon
 * as the last one is answered, for `seconds`; or, with `requestLimit`, one
 * request after another until that many are done.
 */
async function measure(endpoint: Endpoint, connections: number, limit: { seconds?: number; requestLimit?: number }): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = limit.seconds === undefined ? Number.POSITIVE_INFINITY : started + limit.seconds * 1000;
  const requestLimit = limit.requestLimit ?? Number.POSITIVE_INFINITY;
  try {
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && latencies.length < requestLimit) {
        const sent = performance.now();
        await get(agent, endpoint);
        latencies.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requestsPerSecond: latencies.length / elapsedSeconds, medianMs: percentile(latencies, 0.5), p90Ms: percentile(latencies, 0.9) };
}

/** Polls until the server answers, for at most `timeoutMs`. */
async function waitUntilAnswering(endpoint: Endpoint, timeoutMs: number): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await get(agent, endpoint);
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`server at ${endpoint.host}:${endpoint.port} did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    agent.destroy();
  }
}

/**
 * The forwarder runs in a process of its own, as it does in the extension
 * host, so it does not share an event loop with the load generator.
 */
async function runForwarderChild(host: string, port: number): Promise<void> {
  const forwarder = await PortForwarder.open({ host, port });
  process.send?.({ hostPort: forwarder.hostPort });
  // The parent asks for CPU time to learn what each relayed request costs.
  process.on('message', () => process.send?.({ cpuMicros: cpuMicros() }));
  // The parent going away (normally or not) ends the forwarder.
  process.once('disconnect', () => {
    void forwarder.close().finally(() => process.exit(0));
  });
}

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

function forwarderCpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('forwarder did not report its CPU time within 5 s')), 5_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { cpuMicros: number }).cpuMicros);
    });
    child.send('cpu');
  });
}

async function startForwarderChild(target: Endpoint): Promise<{ child: ChildProcess; hostPort: number }> {
  const child = fork(__filename, [FORWARDER_CHILD_ARG, target.host, String(target.port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const hostPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('forwarder did not start within 10 s')), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { hostPort: number }).hostPort);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`forwarder exited with ${code}`));
    });
  });
  return { child, hostPort };
}

async function stopForwarderChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

async function startServerContainer(engine: Engine, image: string, name: string): Promise<Endpoint> {
  await engine.removeContainer(name);
  await ensureNetwork(engine);
  const id = await engine.createContainer({
    name,
    Image: image,
    Cmd: ['python3', '-c', SERVER_SCRIPT],
    Labels: { [TEST_LABEL]: '1' },
    HostConfig: { NetworkMode: TEST_NETWORK },
  });
  await engine.startContainer(id);
  const ip = (await engine.inspectContainer(name))?.NetworkSettings.Networks[TEST_NETWORK]?.IPAddress;
  if (!ip) {
    throw new Error(`container ${name} has no address on ${TEST_NETWORK}`);
  }
  const endpoint = { host: ip, port: SERVER_PORT };
  await waitUntilAnswering(endpoint, 15_000);
  return endpoint;
}

const ms = (value: number): string => value.toFixed(3);

function summarize(rounds: readonly RoundResult[], way: Way): { loaded: LoadFigures; sequential: LoadFigures } {
  const of = rounds.filter((r) => r.way === way);
  const pick = (kind: 'loaded' | 'sequential', key: keyof LoadFigures): number => median(of.map((r) => r[kind][key]));
  const figuresOf = (kind: 'loaded' | 'sequential'): LoadFigures => ({
    requestsPerSecond: pick(kind, 'requestsPerSecond'),
    medianMs: pick(kind, 'medianMs'),
    p90Ms: pick(kind, 'p90Ms'),
  });
  return { loaded: figuresOf('loaded'), sequential: figuresOf('sequential') };
}

async function main(): Promise<void> {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run `npm run bench:forward`, which builds the image');
  }
  const smoke = process.env.BENCH_SMOKE === '1';
  const rounds = smoke ? 1 : Number(process.env.BENCH_REPS ?? 3);
  const seconds = smoke ? 1 : Number(process.env.BENCH_FORWARD_SECONDS ?? 5);
  const sequentialRequests = smoke ? 50 : 500;
  const warmupSeconds = smoke ? 0.2 : 0.5;
  if (!(rounds >= 1 && seconds > 0)) {
    throw new Error('BENCH_REPS must be at least 1 and BENCH_FORWARD_SECONDS above 0');
  }

  const engine = new Engine();
  await engine.ping();
  const name = `gitiso-bench-forward-${process.pid}`;
  let forwarderChild: ChildProcess | undefined;
  // Ctrl-C skips `finally`: remove the container on the way out all the same.
  const onSignal = (): void => {
    forwarderChild?.kill('SIGKILL');
    void engine.removeContainer(name).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const direct = await startServerContainer(engine, image, name);
    const started = await startForwarderChild(direct);
    forwarderChild = started.child;
    const endpoints: Record<Way, Endpoint> = { direct, forwarded: { host: '127.0.0.1', port: started.hostPort } };
    console.error(`server ${direct.host}:${direct.port}, forwarder 127.0.0.1:${started.hostPort}`);

    const results: RoundResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Alternate which way goes first, so drift on the machine hits both alike.
      const order: Way[] = round % 2 ? ['direct', 'forwarded'] : ['forwarded', 'direct'];
      for (const way of order) {
        await measure(endpoints[way], CONNECTIONS, { seconds: warmupSeconds });
        const cpuBefore = way === 'forwarded' ? await forwarderCpuMicros(started.child) : 0;
        const loaded = await measure(endpoints[way], CONNECTIONS, { seconds });
        const forwarderCpuMicrosPerRequest = way === 'forwarded' ? ((await forwarderCpuMicros(started.child)) - cpuBefore) / (loaded.requestsPerSecond * seconds) : undefined;
        const sequential = await measure(endpoints[way], 1, { requestLimit: sequentialRequests });
        results.push({ way, round, loaded, sequential, ...(forwarderCpuMicrosPerRequest === undefined ? {} : { forwarderCpuMicrosPerRequest }) });
        console.error(`round ${round} ${way}: ${loaded.requestsPerSecond.toFixed(0)} req/s, sequential median ${ms(sequential.medianMs)} ms`);
      }
    }

    const direct_ = summarize(results, 'direct');
    const forwarded = summarize(results, 'forwarded');
    const throughputLossPercent = (1 - forwarded.loaded.requestsPerSecond / direct_.loaded.requestsPerSecond) * 100;
    const addedMedianMs = forwarded.sequential.medianMs - direct_.sequential.medianMs;
    const addedLoadedMedianMs = forwarded.loaded.medianMs - direct_.loaded.medianMs;
    const forwarderCpuMicrosPerRequest = median(results.flatMap((r) => (r.forwarderCpuMicrosPerRequest === undefined ? [] : [r.forwarderCpuMicrosPerRequest])));
    const throughputMet = throughputLossPercent <= TARGET_THROUGHPUT_LOSS_PERCENT;
    const latencyMet = addedMedianMs <= TARGET_ADDED_MEDIAN_MS;

    const row = (way: string, f: { loaded: LoadFigures; sequential: LoadFigures }): string =>
      `| ${way} | ${f.loaded.requestsPerSecond.toFixed(0)} | ${ms(f.loaded.medianMs)} | ${ms(f.loaded.p90Ms)} | ${ms(f.sequential.medianMs)} | ${ms(f.sequential.p90Ms)} |`;
    console.log(`\nPort forwarder vs direct: ${CONNECTIONS} connections × ${seconds} s and ${sequentialRequests} sequential requests, ${rounds} round(s), medians of rounds\n`);
    console.log(`| way | req/s (${CONNECTIONS} conns) | median ms | p90 ms | sequential median ms | sequential p90 ms |`);
    console.log('|---|---:|---:|---:|---:|---:|');
    console.log(row(`direct (${direct.host}:${direct.port})`, direct_));
    console.log(row(`forwarded (127.0.0.1:${started.hostPort})`, forwarded));
    console.log(`\nforwarder cost:`);
    console.log(`  throughput loss       ${throughputLossPercent.toFixed(1)} %  (target ≤ ${TARGET_THROUGHPUT_LOSS_PERCENT} %: ${throughputMet ? 'met' : 'NOT met'})`);
    console.log(`  added median latency  ${ms(addedMedianMs)} ms  sequential (target ≤ ${TARGET_ADDED_MEDIAN_MS} ms: ${latencyMet ? 'met' : 'NOT met'}); ${ms(addedLoadedMedianMs)} ms under load`);
    console.log(`  forwarder CPU         ${forwarderCpuMicrosPerRequest.toFixed(0)} µs per request (its own process; on a machine whose cores are all busy this shows as lost throughput)`);

    const dir = join(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `forward-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    const summary = {
      machine: { cores: cpus().length, node: process.version },
      settings: { rounds, seconds, connections: CONNECTIONS, sequentialRequests, warmupSeconds, smoke },
      direct: direct_,
      forwarded,
      cost: { throughputLossPercent, addedMedianMs, addedLoadedMedianMs, forwarderCpuMicrosPerRequest },
      targets: { throughputLossPercent: TARGET_THROUGHPUT_LOSS_PERCENT, addedMedianMs: TARGET_ADDED_MEDIAN_MS, throughputMet, latencyMet },
      rounds: results,
    };
    writeFileSync(file, JSON.stringify(summary, null, 2));
    console.log(`\nresults: ${file}`);
  } finally {
    if (forwarderChild) {
      await stopForwarderChild(forwarderChild);
    }
    await engine.removeContainer(name);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (process.argv[2] === FORWARDER_CHILD_ARG) {
  runForwarderChild(process.argv[3] as string, Number(process.argv[4])).catch((error: unknown) => {
    console.error(`forwarder: ${(error as Error).message}`);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(`bench:forward: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
