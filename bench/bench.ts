import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/core/docker/engine';
import { formatResults, runCreateBench } from './createBench';
import { formatRoundTripResults, runRoundTripBench } from './roundTripBench';
import { formatMemoryResults, runMemoryBench } from './memoryBench';
import { formatStatusResults, runStatusBench } from './statusBench';

/**
 * `npm run bench`: gitiso against the usual ways, on a generated repository
 * (about 5,000 files, 2,000 commits), one ten times larger, and BENCH_REPO
 * when it names a repository URL; then bringing an agent's work home against a
 * plain git fetch of the same commits; then `git status` on a large tree.
 * and gitiso's memory as idle agents grow. BENCH_ONLY=create|roundtrip|status|memory
 * runs one part; BENCH_SMOKE=1 runs a tiny version.
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
  const wants = (part: string): boolean => !only || only === part;
  const repetitions = smoke ? 1 : Number(process.env.BENCH_REPS ?? 5);
  const results = !wants('create') ? [] : await runCreateBench({
    engine,
    image,
    repos,
    repetitions,
    concurrency: smoke ? [1, 2] : [1, 5, 10, 20],
    gitStatusRuns: smoke ? 3 : 20,
    log: (line) => console.error(line),
  });
  console.log(formatResults(results));
  const roundTrip = !wants('roundtrip') ? [] : await runRoundTripBench({ engine, image, repos, repetitions, manyFiles: smoke ? 20 : 1_000, log: (line) => console.error(line) });
  console.log(formatRoundTripResults(roundTrip));
  const status = !wants('status') ? undefined : await runStatusBench({ engine, image, shape: smoke ? { files: 50, commits: 5 } : { files: 50_000, commits: 2_000 }, runs: smoke ? 3 : 20, oneVariant: smoke, log: (line) => console.error(line) });
  console.log(formatStatusResults(status));
  const memory = !wants('memory') ? undefined : await runMemoryBench({ engine, image, steps: smoke ? [0, 2] : [0, 10, 20, 50], idleAgents: smoke ? 2 : 20, idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? (smoke ? 2 : 600)), samples: smoke ? 1 : 3, settleSeconds: smoke ? 0 : 30, log: (line) => console.error(line) });
  console.log(formatMemoryResults(memory));
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `create-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: { cores: cpus().length }, results, roundTrip, status, memory }, null, 2));
  console.log(`\nresults: ${file}`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
