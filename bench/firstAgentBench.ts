import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateStrategy } from '../src/core/agent';
import type { Engine } from '../src/core/docker/engine';
import { isAlongside } from '../src/core/base/stepTimings';
import { createCore, type GitisoCore } from '../src/core/gitisoCore';
import { GitServer } from '../test/support/gitServer';
import { TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';
import { figures, timed, type Figures } from './createBench';
import type { RepoShape } from './generateRepo';
import { snapshotBuilt } from './snapshotWait';
import { benchRepoUrl, type BenchRepo } from './benchRepo';

export interface FirstAgentBenchOptions {
  readonly engine: Engine;
  readonly image: string;
  readonly repos: readonly BenchRepo[];
  readonly repetitions: number;
  readonly log?: (line: string) => void;
}

export interface FirstAgentResult {
  readonly repo: string;
  readonly shape?: RepoShape;
  /** gitiso's first agent, cold: a storage folder it has never used, no snapshot of the repository. */
  readonly gitisoMs: Figures;
  /** A full clone in a fresh container (the remote strategy). */
  readonly naiveMs: Figures;
  /** How long after the agent was ready its snapshot (built in the background) was there and its builder gone. */
  readonly snapshotAfterMs: Figures;
  /** Each step the core timed, in the order first seen; 'other' is the rest of the total. */
  readonly steps: readonly { readonly step: string; readonly ms: Figures }[];
}

/**
 * The first agent of a repository gitiso has never seen (mirror, snapshot
 * build, agent start) against a naive clone in a fresh container, alternated,
 * each repetition from the same cold state; with gitiso's time broken down by
 * the steps the core itself timed (CoreOptions.timings).
 */
export async function runFirstAgentBench(options: FirstAgentBenchOptions): Promise<FirstAgentResult[]> {
  const { engine, image } = options;
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'gitiso-bench-first-'));
  const server = await GitServer.start(engine, image);
  const results: FirstAgentResult[] = [];
  try {
    for (const repo of options.repos) {
      const url = benchRepoUrl(server, repo, log);
      results.push(await benchRepo(repo.name, url, repo.shape));
    }
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;

  async function benchRepo(name: string, url: string, shape?: RepoShape): Promise<FirstAgentResult> {
    const service = (strategy: CreateStrategy, storageDir: string, timings?: (step: string, ms: number) => void): GitisoCore =>
      createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'Bench', email: 'bench@example.com' }, strategy, storageDir, timings });
    const naive = service('remote', join(scratch, `${name}-naive`));
    const gitiso: number[] = [];
    const naiveTimes: number[] = [];
    const snapshotAfter: number[] = [];
    const stepTimes = new Map<string, number[]>();
    for (let rep = 0; rep < options.repetitions; rep++) {
      // Cold: a storage folder never used (no mirror) and no snapshot of the repository.
      const home = join(scratch, `${name}-home-${rep}`);
      const steps = new Map<string, number>();
      const background = new Map<string, number>();
      let ready = false;
      // Steps told after the agent is ready are the snapshot's, built in the background.
      const cold = service('snapshot', home, (step, ms) => {
        const into = ready ? background : steps;
        into.set(step, (into.get(step) ?? 0) + ms);
      });
      await removeSnapshotsOf(cold, url);
      const id = `bench-first-${name}-${rep}`;
      const [ms] = await timed(() => cold.creator.create({ id, repoUrl: url }));
      ready = true;
      gitiso.push(ms);
      // Steps done alongside another (a container started while the pool clones) are shown, not summed.
      steps.set('other', ms - [...steps].filter(([step]) => !isAlongside(step)).reduce((a, [, b]) => a + b, 0));
      // The snapshot for the agents that follow: waited for, so that it takes nothing from what is timed next.
      snapshotAfter.push((await timed(() => snapshotBuilt(engine, cold, url)))[0]);
      for (const [step, value] of steps) {
        stepTimes.set(step, [...(stepTimes.get(step) ?? []), value]);
      }
      await cold.agents.remove(id);
      await removeSnapshotsOf(cold, url);
      rmSync(home, { recursive: true, force: true });

      const naiveId = `bench-first-naive-${name}-${rep}`;
      const [naiveMs] = await timed(() => naive.creator.create({ id: naiveId, repoUrl: url }));
      naiveTimes.push(naiveMs);
      await naive.agents.remove(naiveId);
      const list = (m: Map<string, number>): string => [...m].map(([s, v]) => `${s} ${Math.round(v)}`).join(', ');
      log(`${name}: first agent ${Math.round(ms)} ms (${list(steps)}; then in the background: ${list(background) || 'nothing'}), naive clone ${Math.round(naiveMs)} ms`);
    }
    const ordered = [...stepTimes.keys()].filter((s) => s !== 'other').concat('other');
    return { repo: name, shape, gitisoMs: figures(gitiso), naiveMs: figures(naiveTimes), snapshotAfterMs: figures(snapshotAfter), steps: ordered.map((step) => ({ step, ms: figures(stepTimes.get(step) ?? []) })) };
  }

  /** Removes this bench's snapshots of `url` only (others' snapshots on a shared engine stay). */
  async function removeSnapshotsOf(core: GitisoCore, url: string): Promise<void> {
    for (const snapshot of (await core.snapshots.list()).filter((s) => s.repoUrl === url)) {
      await engine.removeImage(snapshot.image);
    }
  }
}

/** The breakdown and the totals, with gitiso's ratio to the naive clone. */
export function formatFirstAgentResults(results: readonly FirstAgentResult[]): string {
  const ms = (value: number): string => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
  const cell = (f: Figures): string => `${ms(f.median)} (${ms(f.min)}–${ms(f.max)})`;
  const lines: string[] = [];
  for (const r of results) {
    lines.push('', `## first agent of a new repository: ${r.repo}${r.shape ? ` (${r.shape.files} files, ${r.shape.commits} commits)` : ''}`);
    lines.push('| step | median (min–max) |', '|---|---|');
    for (const s of r.steps) {
      lines.push(`| ${s.step} | ${cell(s.ms)} |`);
    }
    lines.push(`| **gitiso first agent** | **${cell(r.gitisoMs)}** |`);
    lines.push(`| naive clone in a fresh container | ${cell(r.naiveMs)} |`);
    lines.push(`| ratio (medians) | ${(r.gitisoMs.median / r.naiveMs.median).toFixed(2)}× |`);
    lines.push(`| its snapshot, for the agents after it: there after ready + | ${cell(r.snapshotAfterMs)} |`);
  }
  return lines.join('\n');
}
