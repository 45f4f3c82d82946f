import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL } from '../src/core/agent';
import { Engine } from '../src/core/docker/engine';
import { describeCause, isCancellation } from '../src/core/errors';
import { createCore, type GitisoCore } from '../src/core/gitisoCore';
import { GitServer } from '../test/support/gitServer';
import { makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';

/**
 * `npm run soak`: SOAK_AGENTS workers (default 20) each repeat a cycle on one
 * repository for SOAK_SECONDS (default 480): create (some cancelled at a random
 * moment, some made by a CLI process killed with SIGKILL), git, a dev server,
 * remove. At the end it counts what is left (containers, builders, snapshot
 * images of the repository, temporary files, pool locks) and compares this
 * process's memory in the first and last quarter of the run. Bounded: it
 * stops by itself, and every connection stays on this machine.
 */
const AGENTS = Number(process.env.SOAK_AGENTS ?? 20);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 480);
const PREFIX = 'soak';
const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const FIXTURE = join(__dirname, '..', '..', 'test', 'fixtures', 'devsite', 'server.py');

interface Counts {
  cycles: number;
  created: number;
  cancelled: number;
  killed: number;
  failed: number;
  failures: string[];
}

async function main(): Promise<void> {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run `npm run soak`, which builds the image');
  }
  const engine = new Engine();
  await engine.ping();
  const home = makeTempDir('soak-home');
  const server = await GitServer.start(engine, image);
  const repo = server.url('soak');
  server.createRepo('soak', {
    '.gitiso.json': JSON.stringify({ dev: 'python3 server.py', install: '' }),
    'server.py': readFileSync(FIXTURE),
    'index.html': '<h1>soak</h1>\n',
  });
  const core = createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'Soak', email: 'soak@example.com' }, storageDir: home });
  const counts: Counts = { cycles: 0, created: 0, cancelled: 0, killed: 0, failed: 0, failures: [] };
  const memory: { at: number; rss: number }[] = [];
  const tempBefore = gitisoTempFiles();
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const sampler = setInterval(() => memory.push({ at: Date.now() - started, rss: process.memoryUsage().rss }), 2_000);
  try {
    // The first create builds the snapshot: every later one starts from it.
    await core.creator.create({ id: `${PREFIX}-warm`, repoUrl: repo });
    await core.agents.remove(`${PREFIX}-warm`);
    await Promise.all(Array.from({ length: AGENTS }, (_, n) => worker({ core, repo, slot: n, deadline, counts, env: { GITISO_HOME: home, GITISO_IMAGE: image, GITISO_NETWORK: TEST_NETWORK } })));
  } finally {
    clearInterval(sampler);
  }
  const leftovers = await countLeftovers({ engine, core, repo, home, tempBefore });
  leftovers.doctorFindsAfterFix = (await core.doctor.find({ repoUrl: repo })).length;
  await removeAgents(engine, `${PREFIX}-`);
  await server.stop();
  core.dispose();
  removeDir(home);
  report({ counts, memory, leftovers, seconds: (Date.now() - started) / 1000 });
  if (Object.values(leftovers).some((n) => n > 0)) {
    process.exitCode = 1;
  }
}

interface WorkerInput {
  readonly core: GitisoCore;
  readonly repo: string;
  readonly slot: number;
  readonly deadline: number;
  readonly counts: Counts;
  readonly env: Record<string, string>;
}

/** One slot's cycles until the deadline. */
async function worker(input: WorkerInput): Promise<void> {
  const { core, repo, slot, counts } = input;
  for (let round = 0; Date.now() < input.deadline; round++) {
    const id = `${PREFIX}-${slot}-${round}`;
    counts.cycles++;
    const dice = Math.random();
    try {
      if (dice < 0.1) {
        await killedCliCreate({ id, repo, env: input.env });
        counts.killed++;
        await core.agents.remove(id).catch(() => undefined);
        continue;
      }
      const abort = new AbortController();
      if (dice < 0.3) {
        setTimeout(() => abort.abort(), Math.random() * 1_500);
      }
      try {
        await core.creator.create({ id, repoUrl: repo }, { signal: abort.signal, force: true });
      } catch (error) {
        if (isCancellation(error)) {
          counts.cancelled++;
          continue;
        }
        throw error;
      }
      counts.created++;
      await core.exec.git(id, ['commit', '--allow-empty', '-q', '-m', `soak ${round}`]);
      if (round % 3 === 0) {
        await core.devServers.start(id, {});
        await core.devServers.status(id);
        await core.devServers.stop(id);
      }
      await core.agents.remove(id);
    } catch (error) {
      counts.failed++;
      if (counts.failures.length < 10) {
        counts.failures.push(`${id}: ${describeCause(error)}`);
      }
      await core.agents.remove(id).catch(() => undefined);
    }
  }
}

/** A create by a CLI process that is killed with SIGKILL at a random moment of its first two seconds. */
async function killedCliCreate(input: { id: string; repo: string; env: Record<string, string> }): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'create', input.id, '--repo', input.repo, '--force', '--memory', '256m', '--cpus', '1'], { env: { ...process.env, ...input.env }, stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 2_000));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** Temporary files gitiso makes (bundles, deltas, syncs) in the temp folder. */
function gitisoTempFiles(): Set<string> {
  return new Set(readdirSync(tmpdir()).filter((name) => /^gitiso-(delta|bundle|sync)-/.test(name)));
}

/** Lets the doctor remove what killed creates of the soak's repository left (as VS Code does at start-up), then counts what is still there. */
async function countLeftovers(input: { engine: Engine; core: GitisoCore; repo: string; home: string; tempBefore: Set<string> }): Promise<Record<string, number>> {
  const { engine, core, repo, home, tempBefore } = input;
  const found = await core.doctor.find({ repoUrl: repo });
  await core.doctor.fix(found);
  console.log(`doctor: found and removed ${found.length} leftover(s) of killed creates`);
  const agents = (await engine.listContainers(LABEL.agent)).filter((c) => c.Labels[LABEL.agent]?.startsWith(`${PREFIX}-`));
  const builders = (await engine.listContainers()).filter((c) => c.Names.some((name) => name.startsWith('/gitiso-snapshot-build-')));
  // Snapshots are a cache: pruning must be able to remove every one no agent uses.
  await core.snapshots.prune(0);
  const snapshots = (await core.snapshots.list()).filter((s) => s.repoUrl.includes('/soak'));
  const temp = [...gitisoTempFiles()].filter((name) => !tempBefore.has(name));
  const poolDir = join(home, 'pool');
  const locks = existsSync(poolDir) ? readdirSync(poolDir).filter((name) => name.endsWith('.lock')) : [];
  return { agents: agents.length, builders: builders.length, snapshots: snapshots.length, temporaryFiles: temp.length, poolLocks: locks.length };
}

function report(input: { counts: Counts; memory: { at: number; rss: number }[]; leftovers: Record<string, number>; seconds: number }): void {
  const { counts, memory, leftovers } = input;
  const quarter = Math.max(1, Math.floor(memory.length / 4));
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const first = median(memory.slice(0, quarter).map((m) => m.rss));
  const last = median(memory.slice(-quarter).map((m) => m.rss));
  const mb = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  console.log(`soak: ${input.seconds.toFixed(0)} s, ${AGENTS} workers`);
  console.log(`cycles ${counts.cycles}: created ${counts.created}, cancelled ${counts.cancelled}, CLI killed ${counts.killed}, failed ${counts.failed}`);
  for (const failure of counts.failures) {
    console.log(`  failure: ${failure}`);
  }
  console.log(`leftovers: ${Object.entries(leftovers).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`memory (rss, median): first quarter ${mb(first)}, last quarter ${mb(last)} (${first > 0 ? ((last / first - 1) * 100).toFixed(1) : '?'} %)`);
}

main().catch((error: unknown) => {
  console.error(`soak: ${describeCause(error)}`);
  process.exitCode = 1;
});
