import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/core/docker/engine';
import { formatResults, runCreateBench } from './createBench';
import { benchRepoFromEnv } from './benchRepo';
import { formatFirstAgentResults, runFirstAgentBench } from './firstAgentBench';
import { formatForwardResults, runForwardBench } from './forwardBench';
import { formatMemoryResults, runMemoryBench } from './memoryBench';
import { formatRoundTripResults, runRoundTripBench } from './roundTripBench';
import { formatStatusResults, runStatusBench } from './statusBench';
import { formatTreeResults, runTreeBench } from './treeBench';

/** One part of the run: measures, then says what it measured as a table. */
interface Part {
  readonly name: string;
  run(): Promise<{ results: unknown; table: string }>;
}

/**
 * `npm run bench`: every part in one run, one after another (the machine has
 * two cores: nothing else is timed meanwhile). The first agent of a repository
 * never seen, by step, against a naive clone; gitiso against the usual ways
 * on a generated repository (about 5,000 files, 2,000 commits), one ten times
 * larger, and BENCH_REPO when set (a repository URL, or a repository on this
 * machine, served from the bench's git server); bringing an agent's
 * work home against a plain git fetch; the ways of forwarding a dev port
 * against direct access; `git status` on a large tree; gitiso's memory as idle
 * agents grow; the tree with 100 agents in a real VS Code. BENCH_ONLY=<part>
 * runs one part; BENCH_SMOKE=1 a tiny version.
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
        ...(process.env.BENCH_REPO ? [benchRepoFromEnv(process.env.BENCH_REPO)] : []),
      ];
  const repetitions = smoke ? 1 : Number(process.env.BENCH_REPS ?? 5);
  const log = (line: string): void => console.error(line);
  const parts: Part[] = [
    {
      name: 'first',
      async run() {
        const results = await runFirstAgentBench({ engine, image, repos, repetitions, log });
        return { results, table: formatFirstAgentResults(results) };
      },
    },
    {
      name: 'create',
      async run() {
        const results = await runCreateBench({ engine, image, repos, repetitions, concurrency: smoke ? [1, 2] : [1, 5, 10, 20], gitStatusRuns: smoke ? 3 : 20, log });
        return { results, table: formatResults(results) };
      },
    },
    {
      name: 'roundtrip',
      async run() {
        const results = await runRoundTripBench({ engine, image, repos, repetitions, manyFiles: smoke ? 20 : 1_000, log });
        return { results, table: formatRoundTripResults(results) };
      },
    },
    {
      name: 'forward',
      async run() {
        const results = await runForwardBench({
          engine,
          image,
          rounds: smoke ? 1 : Number(process.env.BENCH_REPS ?? 3),
          seconds: smoke ? 0.3 : Number(process.env.BENCH_FORWARD_SECONDS ?? 3),
          sequentialRequests: smoke ? 30 : 500,
          echoMessages: smoke ? 30 : 500,
          // gitiso's forward, straight and through the engine (a mux where the image has python3 or node, as the test image does).
          chosen: ['gitiso', 'mux-python3'],
          log,
        });
        return { results, table: formatForwardResults(results) };
      },
    },
    {
      name: 'status',
      async run() {
        const results = await runStatusBench({ engine, image, shape: smoke ? { files: 50, commits: 5 } : { files: 50_000, commits: 2_000 }, runs: smoke ? 3 : 20, oneVariant: smoke, log });
        return { results, table: formatStatusResults(results) };
      },
    },
    {
      name: 'memory',
      async run() {
        const results = await runMemoryBench({
          engine,
          image,
          steps: smoke ? [0, 2] : [0, 10, 20, 50],
          idleAgents: smoke ? 2 : 20,
          idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? (smoke ? 2 : 600)),
          samples: smoke ? 1 : 3,
          settleSeconds: smoke ? 0 : 30,
          log,
        });
        return { results, table: formatMemoryResults(results) };
      },
    },
    {
      name: 'tree',
      async run() {
        const results = await runTreeBench({ engine, image, agents: smoke ? 3 : 100, repetitions, log });
        return { results, table: formatTreeResults(results) };
      },
    },
  ];
  const only = process.env.BENCH_ONLY;
  if (only && !parts.some((part) => part.name === only)) {
    throw new Error(`BENCH_ONLY=${only}: the parts are ${parts.map((part) => part.name).join(', ')}`);
  }
  const measured: Record<string, unknown> = {};
  for (const part of parts.filter((p) => !only || p.name === only)) {
    const { results, table } = await part.run();
    measured[part.name] = results;
    console.log(table);
  }
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: { cores: cpus().length }, ...measured }, null, 2));
  console.log(`\nresults: ${file}`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
