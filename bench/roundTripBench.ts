import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../src/core/docker/engine';
import { createCore } from '../src/core/gitisoCore';
import { GitServer } from '../test/support/gitServer';
import { TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';
import { figures, timed, type Figures } from './createBench';
import { benchRepoUrl, type BenchRepo } from './benchRepo';

export interface RoundTripBenchOptions {
  readonly engine: Engine;
  readonly image: string;
  readonly repos: readonly BenchRepo[];
  readonly repetitions: number;
  /** How many files the large change touches (1,000 in the target). */
  readonly manyFiles: number;
  readonly log?: (line: string) => void;
}

export interface RoundTripResult {
  readonly repo: string;
  readonly change: string;
  /** The first of each kind (for the first kind: a fresh agent, nothing of its work in the pool yet), and the plain fetch's first. */
  readonly firstMs: number;
  readonly firstFetchMs: number;
  /** Later bring-homes, each after a new change of the same kind. */
  readonly bringHomeMs: Figures;
  /** `git fetch` of the same commits from a plain git remote, into a host repository holding the base. */
  readonly fetchMs: Figures;
  readonly bytes: number;
}

interface Change {
  readonly name: string;
  /** A shell script run in the agent's /workspace; $1 is the repetition. */
  readonly script: string;
}

/**
 * Bring-home against a plain `git fetch` of the same commits, alternating:
 * each repetition, the agent commits a change and pushes it (untimed) to a
 * plain bare repository on the same git server; then the host brings the
 * agent's work home and, separately, fetches the same branch from the plain
 * remote into a bare clone that holds the base. Both move the same objects;
 * bring-home also captures the working tree (git add -A on a temporary index),
 * which is its price for not trusting the agent to push.
 */
export async function runRoundTripBench(options: RoundTripBenchOptions): Promise<RoundTripResult[]> {
  const { engine, image } = options;
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'gitiso-bench-rt-'));
  const server = await GitServer.start(engine, image);
  const results: RoundTripResult[] = [];
  const changes: Change[] = [
    { name: 'one commit, one file', script: 'f=$(git ls-files | head -n 1) && echo "// change $1" >> "$f" && git commit -qam "one file $1"' },
    {
      name: `one commit, ${options.manyFiles.toLocaleString('en')} files`,
      script: `git ls-files -z | head -z -n ${options.manyFiles} | xargs -0 sh -c 'for f; do echo "// change $0" >> "$f"; done' "$1" && git commit -qam "many files $1"`,
    },
  ];
  try {
    for (const repo of options.repos) {
      const url = benchRepoUrl(server, repo);
      const dir = join(scratch, repo.name);
      mkdirSync(dir, { recursive: true });
      // The plain remote: an empty bare repository on the same server, filled by the agent's pushes.
      const plainName = `${repo.name}-plain`;
      execFileSync('git', ['init', '-q', '--bare', server.barePath(plainName)]);
      const hostRepo = join(dir, 'host.git');
      execFileSync('git', ['clone', '-q', '--bare', url, hostRepo]);
      const core = createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'Bench', email: 'bench@example.com' }, storageDir: join(dir, 'home') });
      const id = `bench-rt-${repo.name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
      try {
        await core.creator.create({ id, repoUrl: url });
        let rep = 0;
        for (const change of changes) {
          const bring: number[] = [];
          const fetch: number[] = [];
          let bytes = 0;
          for (let n = 0; n <= options.repetitions; n++, rep++) {
            const made = await core.exec.run(id, ['sh', '-c', change.script, 'change', String(rep)]);
            if (made.exitCode !== 0) {
              throw new Error(`the change failed in the agent: ${made.stderr}${made.stdout}`);
            }
            const branch = `r${rep}`;
            const pushed = await core.exec.git(id, ['push', '-q', server.url(plainName), `HEAD:refs/heads/${branch}`]);
            if (pushed.exitCode !== 0) {
              throw new Error(`the agent could not push to the plain remote: ${pushed.stderr}`);
            }
            const bringHome = async (): Promise<void> => {
              const [ms, work] = await timed(() => core.roundTrip.bringHome(id));
              bytes = work.bytes;
              bring.push(ms);
            };
            const plainFetch = async (): Promise<void> => {
              const [ms] = await timed(async () => execFileSync('git', ['-C', hostRepo, 'fetch', '-q', server.url(plainName), `refs/heads/${branch}:refs/heads/${branch}`]));
              fetch.push(ms);
            };
            // Alternate which goes first, so neither always has the warmer caches.
            for (const step of n % 2 === 0 ? [bringHome, plainFetch] : [plainFetch, bringHome]) {
              await step();
            }
          }
          const [firstMs = Number.NaN, ...laterBring] = bring;
          const [firstFetchMs = Number.NaN, ...laterFetch] = fetch;
          results.push({ repo: repo.name, change: change.name, firstMs, firstFetchMs, bringHomeMs: figures(laterBring), fetchMs: figures(laterFetch), bytes });
          log(`${repo.name}, ${change.name}: bring-home ${Math.round(figures(laterBring).median)} ms, plain fetch ${Math.round(figures(laterFetch).median)} ms`);
        }
      } finally {
        await core.agents.remove(id).catch(() => undefined);
        await core.snapshots.prune(0).catch(() => undefined);
        core.dispose();
      }
    }
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

/** The table: bring-home against the plain fetch of the same commits, medians with min–max. */
export function formatRoundTripResults(results: readonly RoundTripResult[]): string {
  const ms = (value: number): string => `${Math.round(value)} ms`;
  const range = (f: Figures): string => `${ms(f.median)} (${ms(f.min)}–${ms(f.max)})`;
  const lines = [
    '',
    '## Bring-home (agent → host pool) against git fetch from a plain remote',
    '| repository | change | first: bring-home / fetch | bring-home: median (min–max) | plain git fetch | ratio | bundle |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(`| ${r.repo} | ${r.change} | ${ms(r.firstMs)} / ${ms(r.firstFetchMs)} | ${range(r.bringHomeMs)} | ${range(r.fetchMs)} | ${(r.bringHomeMs.median / r.fetchMs.median).toFixed(2)}× | ${(r.bytes / 1024).toFixed(1)} KiB |`);
  }
  return lines.join('\n');
}
