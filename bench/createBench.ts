import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateStrategy } from '../src/core/agent';
import { createCore, type GitisoCore } from '../src/core/gitisoCore';
import type { Engine } from '../src/core/docker/engine';
import { containerNameFor } from '../src/core/names';
import { GitServer } from '../test/support/gitServer';
import { TEST_LABEL, TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';
import type { RepoShape } from './generateRepo';
import { snapshotBuilt } from './snapshotWait';
import { benchRepoUrl, type BenchRepo } from './benchRepo';

/** The Dev Containers CLI of the project's dev dependencies. */
const devcontainerCli = join(__dirname, '..', '..', 'node_modules', '.bin', 'devcontainer');

export interface BenchOptions {
  readonly engine: Engine;
  readonly image: string;
  readonly repos: readonly BenchRepo[];
  readonly repetitions: number;
  readonly concurrency: readonly number[];
  readonly gitStatusRuns: number;
  readonly log?: (line: string) => void;
}

export interface Figures {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface MethodResult {
  readonly method: string;
  readonly label: string;
  readonly readyMs: Figures;
  readonly diskBytes?: number;
  readonly gitStatusMs?: number;
}

export interface RepoResult {
  readonly repo: string;
  readonly shape?: RepoShape;
  readonly snapshotBuildMs: number;
  readonly methods: MethodResult[];
  readonly concurrent: { readonly n: number; readonly snapshotMs: number; readonly bareMs: number; readonly ratio: number }[];
}

/** One way of getting a working tree on a session branch; `make` returns when it is ready. */
interface Method {
  readonly method: string;
  readonly label: string;
  make(n: number): Promise<{ diskBytes?: number; gitStatusMs?: number; dispose(): Promise<void> }>;
}

export function figures(values: readonly number[]): Figures {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

/** How long `body` took, and what it gave. */
export async function timed<T>(body: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await body();
  return [performance.now() - started, value];
}

/**
 * Measures, in one run and alternating between them, the ways to give an agent
 * a working tree: gitiso's strategies against a naive clone, a host worktree
 * and a bare container start (the floor).
 */
export async function runCreateBench(options: BenchOptions): Promise<RepoResult[]> {
  const { engine, image } = options;
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'gitiso-bench-'));
  const server = await GitServer.start(engine, image);
  const results: RepoResult[] = [];
  try {
    for (const repo of options.repos) {
      const url = benchRepoUrl(server, repo, log);
      results.push(await benchRepo(repo.name, url, repo.shape, join(scratch, repo.name)));
    }
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;

  async function benchRepo(name: string, url: string, shape: RepoShape | undefined, dir: string): Promise<RepoResult> {
    mkdirSync(dir, { recursive: true });
    const service = (strategy: CreateStrategy, depth?: number): GitisoCore =>
      createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'Bench', email: 'bench@example.com' }, strategy, cloneDepth: depth, storageDir: join(dir, 'home') });
    const snapshot = service('snapshot');
    const pooled = service('pool');
    const naive = service('remote');
    const shallow = service('remote', 1);
    const hostClone = join(dir, 'host-clone');
    execFileSync('git', ['clone', '-q', url, hostClone]);
    // The Dev Containers CLI insists on this file name.
    const devcontainerConfig = join(dir, 'devcontainer', 'devcontainer.json');
    mkdirSync(dirname(devcontainerConfig));
    writeFileSync(devcontainerConfig, JSON.stringify({ image, updateRemoteUserUID: false, runArgs: ['--network', TEST_NETWORK, '--init'], overrideCommand: true }));

    // Warm: the pool and the snapshot exist before anything is timed.
    const [snapshotBuildMs] = await timed(() => snapshot.creator.create({ id: `bench-warm-${name}`, repoUrl: url }));
    await snapshotBuilt(engine, snapshot, url); // the first agent's is built after it
    await snapshot.agents.remove(`bench-warm-${name}`);
    log(`${name}: first snapshot agent (mirror + snapshot build) in ${Math.round(snapshotBuildMs)} ms`);

    const agentMethod = (method: string, label: string, svc: GitisoCore): Method => ({
      method,
      label,
      async make(n) {
        const id = `bench-${method}-${n}`;
        await svc.creator.create({ id, repoUrl: url });
        return { diskBytes: await engine.writableLayerBytes(containerNameFor(id)), dispose: () => svc.agents.remove(id) };
      },
    });
    const methods: Method[] = [
      agentMethod('naive', '(a) full clone in a fresh container', naive),
      {
        ...agentMethod('snapshot', '(b) gitiso snapshot', snapshot),
        async make(n) {
          const id = `bench-snapshot-${n}`;
          await snapshot.creator.create({ id, repoUrl: url });
          return { diskBytes: await engine.writableLayerBytes(containerNameFor(id)), dispose: () => snapshot.agents.remove(id) };
        },
      },
      agentMethod('pool', '(c) gitiso pool (clone --shared)', pooled),
      agentMethod('shallow', '(d) gitiso remote, --depth 1', shallow),
      {
        method: 'worktree',
        label: '(e) host git worktree add',
        async make(n) {
          const tree = join(dir, `worktree-${n}`);
          execFileSync('git', ['-C', hostClone, 'worktree', 'add', '-q', '-b', `gitiso/bench-${n}`, tree, 'HEAD']);
          const diskBytes = Number(execFileSync('du', ['-sb', '--exclude=.git', tree], { encoding: 'utf8' }).split('\t')[0]);
          return {
            diskBytes,
            dispose: async () => {
              execFileSync('git', ['-C', hostClone, 'worktree', 'remove', '--force', tree]);
              execFileSync('git', ['-C', hostClone, 'branch', '-q', '-D', `gitiso/bench-${n}`]);
            },
          };
        },
      },
      {
        // A worktree for isolation of files, then the Dev Containers CLI's container on it.
        method: 'devcontainer',
        label: '(g) worktree + devcontainer up',
        async make(n) {
          const tree = join(dir, `dc-${n}`);
          execFileSync('git', ['-C', hostClone, 'worktree', 'add', '-q', '-b', `gitiso/dc-${n}`, tree, 'HEAD']);
          const up = JSON.parse(
            execFileSync(devcontainerCli, ['up', '--workspace-folder', tree, '--config', devcontainerConfig, '--id-label', `gitiso.bench.devcontainer=${name}-${n}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop() ?? '{}',
          ) as { outcome?: string; containerId?: string; message?: string };
          if (up.outcome !== 'success' || !up.containerId) {
            throw new Error(`devcontainer up failed: ${up.message ?? 'no message'}`);
          }
          const containerId = up.containerId;
          return {
            diskBytes: (await engine.writableLayerBytes(containerId)) + Number(execFileSync('du', ['-sb', '--exclude=.git', tree], { encoding: 'utf8' }).split('\t')[0]),
            dispose: async () => {
              await engine.removeContainer(containerId);
              execFileSync('git', ['-C', hostClone, 'worktree', 'remove', '--force', tree]);
              execFileSync('git', ['-C', hostClone, 'branch', '-q', '-D', `gitiso/dc-${n}`]);
            },
          };
        },
      },
      {
        method: 'floor',
        label: '(f) bare container start (floor)',
        async make() {
          const id = await engine.createContainer({ Image: image, Cmd: ['sleep', 'infinity'], Labels: { [TEST_LABEL]: 'bench' }, HostConfig: { Init: true, NetworkMode: TEST_NETWORK } });
          await engine.startContainer(id);
          return { diskBytes: await engine.writableLayerBytes(id), dispose: () => engine.removeContainer(id) };
        },
      },
    ];

    const ready = new Map<string, number[]>(methods.map((m) => [m.method, []]));
    const disk = new Map<string, number>();
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const method of methods) {
        const [ms, made] = await timed(() => method.make(rep));
        ready.get(method.method)?.push(ms);
        if (made.diskBytes !== undefined) {
          disk.set(method.method, made.diskBytes);
        }
        await made.dispose();
      }
      log(`${name}: repetition ${rep + 1}/${options.repetitions} done`);
    }

    // git status through gitiso, on a snapshot agent and on a naive one.
    const statusOf = async (svc: GitisoCore, id: string): Promise<number> => {
      await svc.creator.create({ id, repoUrl: url });
      const times: number[] = [];
      for (let run = 0; run < options.gitStatusRuns; run++) {
        times.push((await timed(() => svc.exec.git(id, ['status', '--porcelain'])))[0]);
      }
      await svc.agents.remove(id);
      return figures(times).median;
    };
    const statusMs = new Map([
      ['snapshot', await statusOf(snapshot, 'bench-status-snapshot')],
      ['naive', await statusOf(naive, 'bench-status-naive')],
      ['pool', await statusOf(pooled, 'bench-status-pool')],
    ]);

    const concurrent: RepoResult['concurrent'] = [];
    for (const n of options.concurrency) {
      const ids = Array.from({ length: n }, (_, k) => `bench-burst-${k}`);
      const [snapshotMs, outcomes] = await timed(() => snapshot.creator.createMany(ids.map((id) => ({ id, repoUrl: url })), { concurrency: n }));
      const failed = outcomes.filter((o) => 'error' in o);
      await Promise.all(ids.map((id) => snapshot.agents.remove(id).catch(() => undefined)));
      if (failed.length > 0) {
        throw new Error(`${failed.length} of ${n} concurrent creates failed: ${(failed[0] as { error: Error }).error.message}`);
      }
      const [bareMs, containers] = await timed(() =>
        Promise.all(
          ids.map(async () => {
            const id = await engine.createContainer({ Image: image, Cmd: ['sleep', 'infinity'], Labels: { [TEST_LABEL]: 'bench' }, HostConfig: { Init: true, NetworkMode: TEST_NETWORK } });
            await engine.startContainer(id);
            return id;
          }),
        ),
      );
      await Promise.all(containers.map((id) => engine.removeContainer(id)));
      concurrent.push({ n, snapshotMs, bareMs, ratio: snapshotMs / bareMs });
      log(`${name}: ${n} concurrent: snapshot ${Math.round(snapshotMs)} ms, bare ${Math.round(bareMs)} ms`);
    }

    await snapshot.snapshots.prune(0);
    return {
      repo: name,
      shape,
      snapshotBuildMs,
      methods: methods.map((m) => ({
        method: m.method,
        label: m.label,
        readyMs: figures(ready.get(m.method) ?? []),
        diskBytes: disk.get(m.method),
        gitStatusMs: statusMs.get(m.method),
      })),
      concurrent,
    };
  }
}

/** The table the bench prints: medians with min–max, ratios to (a), (e) and (f). */
export function formatResults(results: readonly RepoResult[]): string {
  const lines: string[] = [];
  const ms = (value: number): string => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
  const mb = (bytes: number | undefined): string => (bytes === undefined ? '' : `${(bytes / 1e6).toFixed(2)} MB`);
  for (const result of results) {
    const by = new Map(result.methods.map((m) => [m.method, m.readyMs.median]));
    const ratio = (value: number, base: string): string => {
      const baseline = by.get(base);
      return baseline ? `${(value / baseline).toFixed(2)}×` : '';
    };
    lines.push('', `## ${result.repo}${result.shape ? ` (${result.shape.files} files, ${result.shape.commits} commits)` : ''}: first snapshot agent ${ms(result.snapshotBuildMs)}`);
    lines.push('| way | ready: median (min–max) | vs (a) naive | vs (e) worktree | vs (f) floor | disk per agent | git status p50 |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const m of result.methods) {
      const f = m.readyMs;
      lines.push(`| ${m.label} | ${ms(f.median)} (${ms(f.min)}–${ms(f.max)}) | ${ratio(f.median, 'naive')} | ${ratio(f.median, 'worktree')} | ${ratio(f.median, 'floor')} | ${mb(m.diskBytes)} | ${m.gitStatusMs === undefined ? '' : ms(m.gitStatusMs)} |`);
    }
    lines.push('', '| N concurrent | gitiso snapshot | bare containers | ratio |', '|---|---|---|---|');
    for (const c of result.concurrent) {
      lines.push(`| ${c.n} | ${ms(c.snapshotMs)} | ${ms(c.bareMs)} | ${c.ratio.toFixed(2)}× |`);
    }
  }
  return lines.join('\n');
}
