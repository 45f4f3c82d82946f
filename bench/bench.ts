import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/core/docker/engine';
import { formatResults, runCreateBench } from './createBench';
import { formatRoundTripResults, runRoundTripBench } from './roundTripBench';
import { formatTreeResults, runTreeBench } from './treeBench';

/**
 * `npm run bench`: gitiso against the usual ways, on a generated repository
 * (about 5,000 files, 2,000 commits), one ten times larger, and BENCH_REPO
 * when it names a repository URL; then bringing an agent's work home against a
 * plain git fetch of the same commits; then the tree with 100 agents in a real
 * VS Code. BENCH_ONLY=create|roundtrip|tree runs one part; BENCH_SMOKE=1 runs
 * a tiny version.
 */
async function main(): Promise<void> {
  const image = process.env.GITISO_TEST_IMAGE;
  if (!image) {
    throw new Error('GITISO_TEST_IMAGE is not set: run `npm run bench`, which builds the image');
  }
  const smoke = process.env.BENCH_SMOKE === '1';
  const engine = new Engine();
  await engine.ping();
  const repos = smoke
    ? [{ name: 'smoke', shape: { files: 50, commits: 5 } }]
    : [
        { name: 'default', shape: { files: 5_000, commits: 2_000 } },
        { name: 'large', shape: { files: 50_000, commits: 2_000 } },
        ...(process.env.BENCH_REPO ? [{ name: 'BENCH_REPO', url: process.env.BENCH_REPO }] : []),
      ];
  const only = process.env.BENCH_ONLY;
  const runs = (part: string): boolean => !only || only === part;
  const repetitions = smoke ? 1 : Number(process.env.BENCH_REPS ?? 5);
  const results = !runs('create') ? [] : await runCreateBench({
    engine,
    image,
    repos,
    repetitions,
    concurrency: smoke ? [1, 2] : [1, 5, 10, 20],
    gitStatusRuns: smoke ? 3 : 20,
    log: (line) => console.error(line),
  });
  console.log(formatResults(results));
  const roundTrip = !runs('roundtrip') ? [] : await runRoundTripBench({ engine, image, repos, repetitions, manyFiles: smoke ? 20 : 1_000, log: (line) => console.error(line) });
  console.log(formatRoundTripResults(roundTrip));
  const tree = runs('tree') ? await runTreeBench({ engine, image, agents: smoke ? 3 : 100, repetitions, log: (line) => console.error(line) }) : undefined;
  console.log(formatTreeResults(tree));
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `create-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: { cores: cpus().length }, results, roundTrip, tree }, null, 2));
  console.log(`\nresults: ${file}`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
