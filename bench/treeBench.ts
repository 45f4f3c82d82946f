import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Engine } from '../src/core/docker/engine';
import { createCore } from '../src/core/gitisoCore';
import { LIMIT_RANGE } from '../src/core/limits/agentLimits';
import { GitServer } from '../test/support/gitServer';
import { removeAgents, TEST_NETWORK } from '../test/support/testEnv';
import type { TreeBenchFigures, TreeBenchRequest } from '../test/vscode/treeScale.bench';
import { figures, type Figures } from './createBench';
import { generateRepo } from './generateRepo';
import { snapshotBuilt } from './snapshotWait';

export interface TreeBenchOptions {
  readonly engine: Engine;
  readonly image: string;
  /** How many agents the tree shows. */
  readonly agents: number;
  readonly repetitions: number;
  readonly log?: (line: string) => void;
}

/** The figures measured inside VS Code, with the row times summed up, and how the agents were made. */
export interface TreeResults extends Omit<TreeBenchFigures, 'rowMs' | 'rowModelMs'> {
  readonly agents: number;
  /** How long the agents took to create (all at once, from a warm snapshot, the smallest limits). */
  readonly createMs: number;
  readonly rowMs: Figures;
  readonly rowModelMs: Figures;
}

/** The targets: a complete tree within 500 ms of activation, a row within 100 ms of its engine event. */
export const TREE_TARGETS = { completeMs: 500, rowMs: 100 } as const;

const repoRoot = join(__dirname, '..', '..');

/**
 * The tree at scale: makes `agents` agents of a small repository (the
 * smallest limits, from a warm snapshot), then, inside a real VS Code
 * (test/vscode/treeScale.bench.ts in code-server), times the complete tree
 * and a row after an engine event; removes the agents at the end.
 */
export async function runTreeBench(options: TreeBenchOptions): Promise<TreeResults> {
  const { engine, image } = options;
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'gitiso-bench-tree-'));
  const server = await GitServer.start(engine, image);
  const prefix = `bench-tree-${process.pid.toString(36)}-`;
  // The window shares the benchmark's storage, as a window shares the CLI's on a user's machine.
  const home = join(scratch, 'home');
  const core = createCore({
    engine,
    defaultImage: image,
    network: TEST_NETWORK,
    limits: { memoryBytes: LIMIT_RANGE.memoryBytes.min, cpus: LIMIT_RANGE.cpus.min, pids: LIMIT_RANGE.pids.min },
    identity: { name: 'Bench', email: 'bench@example.com' },
    storageDir: home,
  });
  try {
    const bare = server.barePath('tree');
    mkdirSync(dirname(bare), { recursive: true });
    generateRepo(bare, { files: 50, commits: 5 });
    const repoUrl = server.url('tree');
    // Warm: the pool and the snapshot exist before the agents are made.
    await core.creator.create({ id: `${prefix}warm`, repoUrl });
    await snapshotBuilt(engine, core, repoUrl); // the first agent's snapshot follows it
    await core.agents.remove(`${prefix}warm`);
    const started = performance.now();
    const ids = Array.from({ length: options.agents }, (_, k) => `${prefix}${k}`);
    // Admission is for users' agents: these are a few MB each, however small their limit.
    const outcomes = await core.creator.createMany(ids.map((id) => ({ id, repoUrl })), { concurrency: 10, force: true });
    const failed = outcomes.filter((outcome) => 'error' in outcome);
    if (failed.length > 0) {
      throw new Error(`${failed.length} of ${options.agents} agents could not be created: ${(failed[0] as { error: Error }).error.message}`);
    }
    const createMs = performance.now() - started;
    log(`tree: ${options.agents} agents created in ${Math.round(createMs)} ms`);
    const seen = await measureInVsCode({ out: join(scratch, 'tree.json'), prefix, agents: options.agents, repetitions: options.repetitions }, { home, log });
    return { ...seen, agents: options.agents, createMs, rowMs: figures(seen.rowMs), rowModelMs: figures(seen.rowModelMs) };
  } finally {
    await removeAgents(engine, prefix);
    await core.snapshots.prune(0).catch(() => undefined);
    core.dispose();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs the tree suite in code-server (scripts/vscode/run-extension-tests.mjs) and reads what it wrote. */
async function measureInVsCode(request: TreeBenchRequest, context: { readonly home: string; readonly log: (line: string) => void }): Promise<TreeBenchFigures> {
  const { home, log } = context;
  const env = { ...process.env, GITISO_HOME: home, GITISO_VSCODE_TESTS: 'treeScale', GITISO_BENCH: JSON.stringify(request) };
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'vscode', 'run-extension-tests.mjs')], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => void output.push(chunk.toString());
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`the tree suite failed in VS Code (exit ${code}):\n${output.join('').split('\n').slice(-30).join('\n')}`);
  }
  log('tree: measured in VS Code');
  return JSON.parse(readFileSync(request.out, 'utf8')) as TreeBenchFigures;
}

/** The tree's table: figures against the targets. */
export function formatTreeResults(results: TreeResults | undefined): string {
  if (!results) {
    return '';
  }
  const ms = (value: number): string => `${Math.round(value)} ms`;
  const range = (f: Figures): string => `${ms(f.median)} (${ms(f.min)}–${ms(f.max)})`;
  const verdict = (value: number, target: number): string => (value <= target ? 'met' : 'missed');
  const coldMs = results.activatedInMs + results.coldReconnectMs;
  const lines = [
    '',
    `## the tree with ${results.agents} agents (created in ${ms(results.createMs)}; gitiso ${results.activeBefore ? 'was active before the view showed' : 'activated when the view showed'})`,
    '| measure | median (min–max) | target | |',
    '|---|---|---|---|',
    `| activate() | ${ms(results.activatedInMs)} | | |`,
    ...(results.startupMs === undefined ? [] : [`| activation → complete tree (view open at start) | ${ms(results.startupMs)} | ≤ ${TREE_TARGETS.completeMs} ms | ${verdict(results.startupMs, TREE_TARGETS.completeMs)} |`]),
    ...(results.startupModelMs === undefined ? [] : [`| … of which until the model listed them | ${ms(results.startupModelMs)} | | |`]),
    ...(results.firstAskMs === undefined ? [] : [`| … VS Code's first read of the view (whatever it held) | ${ms(results.firstAskMs)} | | |`]),
    `| change of engine → complete tree, states saved (the window and view up) | ${ms(results.warmReconnectMs)} | ≤ ${TREE_TARGETS.completeMs} ms | ${verdict(results.warmReconnectMs, TREE_TARGETS.completeMs)} |`,
    `| … of which until the model listed them | ${ms(results.warmReconnectModelMs)} | | |`,
    `| change of engine → complete tree, no state saved (each read from its container) | ${ms(results.coldReconnectMs)} | | |`,
    `| … of which until the model listed them | ${ms(results.coldReconnectModelMs)} | | |`,
    `| activate() + that cold listing → complete tree | ${ms(coldMs)} | ≤ ${TREE_TARGETS.completeMs} ms | ${verdict(coldMs, TREE_TARGETS.completeMs)} |`,
    `| engine event (die) → row shows stopped | ${range(results.rowMs)} | ≤ ${TREE_TARGETS.rowMs} ms | ${verdict(results.rowMs.median, TREE_TARGETS.rowMs)} |`,
    `| … of which until the model had it | ${range(results.rowModelMs)} | | |`,
  ];
  return lines.join('\n');
}
