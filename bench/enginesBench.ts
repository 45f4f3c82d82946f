import { randomBytes } from 'node:crypto';
import { AgentApiAccess } from '../src/core/apiProxy/agentApiAccess';
import type { CodingAgentApi } from '../src/core/codingAgents/codingAgentPreset';
import { Engine } from '../src/core/docker/engine';
import { createCore, type GitisoCore } from '../src/core/gitisoCore';
import { FakeLlmApi } from '../test/support/fakeLlmApi';
import { GitServer } from '../test/support/gitServer';
import { makeTestCertificates } from '../test/support/testCertificates';
import { secondEngine } from '../test/support/secondEngine';
import { makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';
import { figures, timed, type Figures } from './createBench';

/**
 * `npm run bench:engines`: an agent on an SSH engine against one on the local
 * engine, in one run, alternated: create (from a snapshot the engine has),
 * `git status` through the agent's channel, and its dev port forwarded to
 * 127.0.0.1 (first byte on a new connection, a 8 MiB download), and an API
 * call from the agent through the host's key proxy (first byte on a new
 * connection: listening for the local engine's agents, relayed through the
 * agent's container for the others; the API is a fake on this machine). The second
 * engine reached straight on its socket is shown too, so what SSH adds reads
 * apart from what that engine is. Once per way: the first request (an ssh
 * handshake), the first create with no snapshot there, and the build of its
 * snapshot there. BENCH_REPS (default 5); BENCH_SMOKE=1
 * runs a tiny version.
 */
export interface EngineWayResult {
  readonly name: string;
  /** The first request (an ssh connection's handshake included). */
  readonly connectMs: number;
  readonly firstCreateMs: number;
  /** From the first agent ready to its repository's snapshot on that engine. */
  readonly snapshotMs: number;
  readonly createMs: Figures;
  readonly gitStatusMs: Figures;
  readonly firstByteMs: Figures;
  readonly downloadMBps: Figures;
  /** An API call's first byte from inside the agent, through the key proxy. */
  readonly apiFirstByteMs: Figures;
}

interface Way {
  readonly name: string;
  readonly core: GitisoCore;
}

const BIG_BYTES = 8 * 1024 ** 2;
/** No request of the bench waits longer: a stalled forward is an error that says so, not a hung run. */
const REQUEST_TIMEOUT_MS = 30_000;

export async function runEnginesBench(options: { readonly image: string; readonly repetitions: number; readonly statusRuns: number; readonly requests: number }): Promise<EngineWayResult[]> {
  const second = secondEngine();
  const local = new Engine();
  const engines = [local, new Engine({ host: 'ssh://gitiso-engine2', sshConfigFile: second.sshConfig }), new Engine(second.unixHost)];
  const storage = makeTempDir('bench-engines');
  const server = await GitServer.start(local, options.image);
  const files = Object.fromEntries(Array.from({ length: 500 }, (_, n) => [`src/file-${n}.txt`, `line ${n}\n`.repeat(20)]));
  server.createRepo('bench', { ...files, 'README.md': '# bench\n' });
  const common = { defaultImage: options.image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'B', email: 'b@example.com' }, storageDir: storage };
  const first = createCore({ ...common, engine: local });
  const ways: Way[] = [
    { name: 'local engine', core: first },
    { name: 'SSH engine (ssh://, the system ssh)', core: createCore({ ...common, engine: engines[1] as Engine, pool: first.pool }) },
    { name: 'the same engine on its socket', core: createCore({ ...common, engine: engines[2] as Engine, pool: first.pool }) },
  ];
  const prefix = `bench-eng-${process.pid.toString(36)}`;
  const samples = new Map(ways.map((way) => [way.name, { connect: 0, first: 0, snapshot: 0, create: [] as number[], status: [] as number[], firstByte: [] as number[], download: [] as number[], api: [] as number[] }]));
  let n = 0;
  const key = `sk-bench-${randomBytes(8).toString('hex')}`;
  const certificates = makeTestCertificates(storage);
  const llm = await FakeLlmApi.start(key, certificates);
  const api: CodingAgentApi = { upstream: `${llm.url}/anthropic/v1`, baseUrlEnv: 'ANTHROPIC_BASE_URL', keyEnv: 'ANTHROPIC_API_KEY', keyHeader: 'x-api-key' };
  const engineOf = new Map<string, Engine>();
  const access = new AgentApiAccess({ engine: local, network: first.network, engineOf: (agentId) => engineOf.get(agentId) ?? local, apis: [api], keyFor: () => key, ca: certificates.ca });
  try {
    // The first agent of the repository on each engine: the pool's clone (once, on the first), the snapshot built there.
    for (const way of ways) {
      const sample = samples.get(way.name) as { first: number; connect: number; snapshot: number };
      // Before anything else reaches the engine: an ssh connection's handshake is in it.
      sample.connect = (await timed(() => way.core.engine.ping()))[0];
      // Two ways share the second engine: each builds its own snapshot there.
      await way.core.snapshots.prune(0);
      const id = `${prefix}-${n++}`;
      sample.first = (await timed(() => way.core.creator.create({ id, repoUrl: server.url('bench') })))[0];
      sample.snapshot = (await timed(() => waitForSnapshot(way.core, server.url('bench'))))[0];
      await way.core.agents.remove(id);
    }
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const way of rep % 2 ? [...ways].reverse() : ways) {
        const sample = samples.get(way.name);
        if (!sample) {
          continue;
        }
        const id = `${prefix}-${n++}`;
        progress(`${way.name}: create ${id}`);
        const [createMs] = await timed(() => way.core.creator.create({ id, repoUrl: server.url('bench') }));
        sample.create.push(createMs);
        for (let run = 0; run < options.statusRuns; run++) {
          sample.status.push((await timed(() => way.core.exec.git(id, ['status', '--porcelain'])))[0]);
        }
        progress(`${way.name}: git status, then its port forwarded`);
        const url = await serveBig(way.core, id);
        progress(`${way.name}: requests through ${url}`);
        for (let request = 0; request < options.requests; request++) {
          sample.firstByte.push(await firstByte(`${url}/small`));
        }
        const [downloadMs, bytes] = await timed(async () => (await fetch(`${url}/big.bin`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).arrayBuffer().then((body) => body.byteLength));
        if (bytes !== BIG_BYTES) {
          throw new Error(`${way.name}: downloaded ${bytes} bytes, not ${BIG_BYTES}`);
        }
        sample.download.push(bytes / 1e6 / (downloadMs / 1000));
        progress(`${way.name}: API calls through the key proxy`);
        engineOf.set(id, way.core.engine);
        sample.api.push(...(await apiFirstBytes(way.core, id, await access.envFor(id, api), options.requests)));
        access.revoke(id);
        progress(`${way.name}: removing ${id}`);
        await way.core.ports.stop(id);
        await way.core.agents.remove(id);
      }
    }
  } finally {
    await access.close();
    await llm.stop();
    for (const engine of engines) {
      await removeAgents(engine, prefix).catch(() => undefined);
    }
    for (const way of ways) {
      await way.core.snapshots.prune(0).catch(() => undefined);
      way.core.dispose();
    }
    await server.stop();
    engines.forEach((engine) => engine.dispose());
    removeDir(storage);
  }
  return ways.map((way) => {
    const sample = samples.get(way.name) ?? { connect: 0, first: 0, snapshot: 0, create: [], status: [], firstByte: [], download: [], api: [] };
    return { name: way.name, connectMs: sample.connect, firstCreateMs: sample.first, snapshotMs: sample.snapshot, createMs: figures(sample.create), gitStatusMs: figures(sample.status), firstByteMs: figures(sample.firstByte), downloadMBps: figures(sample.download), apiFirstByteMs: figures(sample.api) };
  });
}

/** What the bench is doing, on stderr: a long step shows where it is. */
function progress(line: string): void {
  process.stderr.write(`engines bench: ${line}\n`);
}

/** The snapshot the first agent's own clone leads to is built behind it: the timed creates start from it. */
async function waitForSnapshot(core: GitisoCore, repoUrl: string): Promise<void> {
  for (let waited = 0; waited < 120_000; waited += 500) {
    if ((await core.snapshots.list()).some((snapshot) => snapshot.repoUrl === repoUrl)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no snapshot on ${core.engine.address} after 120 s`);
}

/** A file of BIG_BYTES and a small one served on the agent's port 3000, forwarded to 127.0.0.1 the way its engine takes. */
async function serveBig(core: GitisoCore, id: string): Promise<string> {
  const made = await core.exec.run(id, ['sh', '-c', `head -c ${BIG_BYTES} /dev/urandom > /tmp/big.bin && echo ok > /tmp/small`]);
  if (made.exitCode !== 0) {
    throw new Error(made.stderr);
  }
  const agent = await core.agents.get(id);
  await core.engine.spawnDetached(agent.containerId, ['python3', '-m', 'http.server', '3000', '--directory', '/tmp']);
  const forward = await core.ports.forward(id, 3000);
  for (let waited = 0; waited < 15_000; waited += 200) {
    if (await fetch(`${forward.url}/small`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then((response) => response.ok, () => false)) {
      return forward.url;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${id}: its server did not answer through the forward`);
}

/** An agent's tool calling its API: each call on a new connection, timed in the agent to the answer's first byte. */
const API_CALLS = String.raw`
import http.client, json, os, sys, time, urllib.parse
base = urllib.parse.urlsplit(os.environ["ANTHROPIC_BASE_URL"])
times = []
for _ in range(int(sys.argv[1])):
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    started = time.monotonic()
    connection.request("POST", base.path + "/messages", body=b'{"input": 1, "output": 1}', headers={"content-type": "application/json", "x-api-key": os.environ["ANTHROPIC_API_KEY"]})
    response = connection.getresponse()
    response.read(1)
    times.append((time.monotonic() - started) * 1000)
    response.read()
    connection.close()
    if response.status != 200:
        sys.exit("HTTP %d" % response.status)
print(json.dumps(times))
`;

async function apiFirstBytes(core: GitisoCore, id: string, env: Record<string, string>, calls: number): Promise<number[]> {
  const result = await core.exec.run(id, ['env', ...Object.entries(env).map(([name, value]) => `${name}=${value}`), 'python3', '-c', API_CALLS, String(calls)], { timeoutMs: 120_000 });
  if (result.exitCode !== 0) {
    throw new Error(`${id}: the API calls failed: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as number[];
}

/** Time to the first byte of an answer on a new connection. */
async function firstByte(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const reader = response.body?.getReader();
  await reader?.read();
  const ms = performance.now() - started;
  await reader?.cancel();
  return ms;
}

export function formatEnginesResults(results: readonly EngineWayResult[]): string {
  const [base] = results;
  const spread = (f: Figures, digits = 0): string => `${f.median.toFixed(digits)} (${f.min.toFixed(digits)}–${f.max.toFixed(digits)})`;
  const ratio = (value: number, of: number | undefined): string => (of ? `${(value / of).toFixed(2)}×` : '');
  return [
    '| engine | first request | first create (no snapshot there) | its snapshot built | create ms | vs local | git status ms | vs local | first byte ms (new connection) | vs local | 8 MiB download MB/s | vs local | API call first byte ms (key proxy) | vs local |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${Math.round(r.connectMs)} ms | ${Math.round(r.firstCreateMs)} ms | ${Math.round(r.snapshotMs)} ms | ${spread(r.createMs)} | ${ratio(r.createMs.median, base?.createMs.median)} | ${spread(r.gitStatusMs, 1)} | ${ratio(r.gitStatusMs.median, base?.gitStatusMs.median)} | ${spread(r.firstByteMs, 1)} | ${ratio(r.firstByteMs.median, base?.firstByteMs.median)} | ${spread(r.downloadMBps)} | ${ratio(r.downloadMBps.median, base?.downloadMBps.median)} | ${spread(r.apiFirstByteMs, 1)} | ${ratio(r.apiFirstByteMs.median, base?.apiFirstByteMs.median)} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run `npm run bench:engines`, which builds the image');
  }
  const smoke = process.env.BENCH_SMOKE === '1';
  const results = await runEnginesBench({ image, repetitions: smoke ? 1 : Number(process.env.BENCH_REPS ?? 5), statusRuns: smoke ? 2 : 20, requests: smoke ? 2 : 20 });
  console.log(formatEnginesResults(results));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
