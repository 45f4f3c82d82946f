import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WORKSPACE } from '../src/core/agent';
import { createCore, type GitisoCore } from '../src/core/gitisoCore';
import type { Engine } from '../src/core/docker/engine';
import { containerNameFor } from '../src/core/names';
import { GitServer } from '../test/support/gitServer';
import { TEST_LABEL, TEST_LIMITS, TEST_NETWORK } from '../test/support/testEnv';
import { figures, timed, type Figures } from './createBench';
import { snapshotBuilt } from './snapshotWait';
import { generateRepo, type RepoShape } from './generateRepo';

export interface StatusBenchOptions {
  readonly engine: Engine;
  readonly image: string;
  readonly shape: RepoShape;
  /** `git status` runs per row; the first is reported on its own. */
  readonly runs: number;
  /** Only the first build-time variant (the smoke run). */
  readonly oneVariant?: boolean;
  readonly log?: (line: string) => void;
}

export interface StatusRow {
  readonly way: string;
  readonly label: string;
  readonly firstMs: number;
  /** The runs after the first. */
  readonly laterMs: Figures;
  /** Whether the first `git status` wrote the index (undefined where not checked). */
  readonly indexWritten?: boolean;
}

export interface StatusResults {
  readonly shape: RepoShape;
  /** `git status` timed inside the tree (no exec around it): the host, and containers from each variant of the snapshot image. */
  readonly inside: StatusRow[];
  /** `git status` as a caller sees it: through the agent's command channel, a plain exec, and what each costs on its own. */
  readonly callers: StatusRow[];
}

/** A way of setting up the snapshot's clone at build time: commands (argument arrays) run in /workspace before the image is committed. */
interface Variant {
  readonly way: string;
  readonly label: string;
  readonly commands: readonly (readonly string[])[];
}

const WITHOUT_UNTRACKED_CACHE = [['git', 'config', 'core.untrackedCache', 'false'], ['git', 'update-index', '--no-untracked-cache']];
const VARIANTS: readonly Variant[] = [
  { way: 'before', label: 'as built before: no cache tree, no untracked cache', commands: [...WITHOUT_UNTRACKED_CACHE, ['rm', '-f', '.git/index'], ['git', 'reset', '-q']] },
  { way: 'no-untracked-cache', label: 'without its untracked cache', commands: WITHOUT_UNTRACKED_CACHE },
  { way: 'index-v4', label: 'index.version 4 (with the untracked cache: feature.manyFiles)', commands: [['git', 'config', 'index.version', '4'], ['git', 'update-index', '--index-version', '4']] },
  { way: 'split-index', label: 'core.splitIndex', commands: [['git', 'config', 'core.splitIndex', 'true'], ['git', 'update-index', '--split-index']] },
  { way: 'no-preload', label: 'core.preloadIndex false', commands: [['git', 'config', 'core.preloadIndex', 'false']] },
];

/** One `git status --porcelain` in the tree "$1", its wall time in microseconds, timed in the tree itself so no exec or channel is counted. */
const TIMED_STATUS = 's=$(date +%s%N); cd "$1" && git status --porcelain >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))';
/** The index's mtime, to tell whether a `git status` wrote it. */
const INDEX_MTIME = 'stat -c %y "$1/.git/index"';

/** A tree to time `git status` in: a shell script run with the tree as $1, there. */
interface Tree {
  readonly way: string;
  readonly label: string;
  sh(script: string): Promise<string>;
}

/**
 * Times `git status` in every tree, alternating (one run in each, then the
 * next round), so that what else the machine does falls on all of them alike.
 */
async function timeAlternating(trees: readonly Tree[], runs: number): Promise<StatusRow[]> {
  const before = await Promise.all(trees.map((tree) => tree.sh(INDEX_MTIME)));
  const times: number[][] = trees.map(() => []);
  const written: boolean[] = [];
  for (let run = 0; run < runs; run++) {
    for (const [k, tree] of trees.entries()) {
      const micros = Number((await tree.sh(TIMED_STATUS)).trim());
      if (!Number.isFinite(micros) || micros <= 0) {
        throw new Error(`${tree.way}: git status failed`);
      }
      times[k]?.push(micros / 1000);
      if (run === 0) {
        written[k] = (await tree.sh(INDEX_MTIME)) !== before[k];
      }
    }
  }
  return trees.map((tree, k) => ({ way: tree.way, label: tree.label, firstMs: times[k]?.[0] as number, laterMs: figures(times[k]?.slice(1) ?? []), indexWritten: written[k] }));
}

/** Times each way as a caller sees it, alternating as timeAlternating does. */
async function callAlternating(ways: readonly { readonly way: string; readonly label: string; call(): Promise<unknown> }[], runs: number): Promise<StatusRow[]> {
  const times: number[][] = ways.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (const [k, way] of ways.entries()) {
      times[k]?.push((await timed(() => way.call()))[0]);
    }
  }
  return ways.map((way, k) => ({ way: way.way, label: way.label, firstMs: times[k]?.[0] as number, laterMs: figures(times[k]?.slice(1) ?? []) }));
}

/**
 * `npm run bench` (BENCH_ONLY=status): `git status` on a large tree. Timed
 * inside the tree: the host's own clone, a full clone in an agent's container,
 * a container of the snapshot image as gitiso builds it, and one of each
 * variant set at build time (committed on top of it, as a build would); then
 * through gitiso: the agent's command channel against a plain exec and the
 * full clone, with what the channel and an exec cost running `true`.
 */
export async function runStatusBench(options: StatusBenchOptions): Promise<StatusResults> {
  const { engine, image, shape, runs } = options;
  const log = options.log ?? (() => undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'gitiso-bench-status-'));
  const server = await GitServer.start(engine, image);
  const core = (strategy: 'snapshot' | 'remote'): GitisoCore =>
    createCore({ engine, defaultImage: image, network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'Bench', email: 'bench@example.com' }, strategy, storageDir: join(scratch, 'home') });
  const snapshot = core('snapshot');
  const naive = core('remote');
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const bare = server.barePath('status');
    mkdirSync(dirname(bare), { recursive: true });
    generateRepo(bare, shape);
    const url = server.url('status');

    const hostClone = join(scratch, 'host-clone');
    execFileSync('git', ['clone', '-q', url, hostClone]);
    // The first agent of a repository makes its own clone and the snapshot follows: the agent timed is the one after.
    const warmId = 'bench-status-warm';
    await snapshot.creator.create({ id: warmId, repoUrl: url });
    await snapshotBuilt(engine, snapshot, url);
    await snapshot.agents.remove(warmId);
    const agentId = 'bench-status-snapshot';
    await snapshot.creator.create({ id: agentId, repoUrl: url });
    cleanups.push(() => snapshot.agents.remove(agentId));
    const naiveId = 'bench-status-naive';
    await naive.creator.create({ id: naiveId, repoUrl: url });
    cleanups.push(() => naive.agents.remove(naiveId));
    const built = (await snapshot.snapshots.list()).find((s) => s.repoUrl === url);
    if (!built) {
      throw new Error('no snapshot image after the first create');
    }
    log(`status: snapshot and full clone made (${shape.files} files)`);

    const inContainer = (id: string, way: string, label: string): Tree => ({
      way,
      label,
      sh: async (script) => (await engine.exec(id, ['sh', '-c', script, 'timing', WORKSPACE])).stdout,
    });
    // A container of an image with the agents' limits.
    const containerOf = async (imageName: string): Promise<string> => {
      const id = await engine.createContainer({
        Image: imageName,
        Cmd: ['sleep', 'infinity'],
        Labels: { [TEST_LABEL]: 'bench' },
        HostConfig: { Init: true, NetworkMode: TEST_NETWORK, Memory: TEST_LIMITS.memoryBytes, NanoCpus: TEST_LIMITS.cpus * 1e9 },
      });
      cleanups.push(() => engine.removeContainer(id));
      await engine.startContainer(id);
      return id;
    };
    const trees: Tree[] = [
      { way: 'host', label: 'host: a host clone', sh: async (script) => execFileSync('sh', ['-c', script, 'timing', hostClone], { encoding: 'utf8' }) },
      inContainer(containerNameFor(naiveId), 'naive', 'full clone in an agent container'),
      inContainer(await containerOf(built.image), 'snapshot', 'snapshot image as built'),
    ];
    for (const variant of options.oneVariant ? VARIANTS.slice(0, 1) : VARIANTS) {
      const variantImage = await buildVariant(engine, built.image, variant);
      cleanups.push(() => engine.removeImage(variantImage));
      trees.push(inContainer(await containerOf(variantImage), variant.way, `snapshot image + ${variant.label}`));
    }
    log('status: variants built');
    const inside = await timeAlternating(trees, runs);

    // Through gitiso, as a caller sees it.
    const container = containerNameFor(agentId);
    const status = ['status', '--porcelain'];
    const callers = await callAlternating(
      [
        { way: 'channel', label: 'gitiso snapshot agent: git status via its channel', call: () => snapshot.exec.git(agentId, status) },
        { way: 'exec', label: 'gitiso snapshot agent: git status via a plain exec', call: () => engine.exec(container, ['git', ...status], { workdir: WORKSPACE }) },
        { way: 'naive', label: 'full clone in a container: git status via its channel', call: () => naive.exec.git(naiveId, status) },
        { way: 'channel-true', label: '`true` via the channel', call: () => snapshot.exec.run(agentId, ['true']) },
        { way: 'exec-true', label: '`true` via a plain exec', call: () => engine.exec(container, ['true'], { workdir: WORKSPACE }) },
      ],
      runs,
    );
    return { shape, inside, callers };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch(() => undefined);
    }
    await snapshot.snapshots.prune(0).catch(() => undefined);
    snapshot.dispose();
    naive.dispose();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The snapshot image with `variant` applied and the index written again, committed as a new image; returns its name. */
async function buildVariant(engine: Engine, base: string, variant: Variant): Promise<string> {
  const id = await engine.createContainer({ Image: base, Cmd: ['sleep', 'infinity'], Labels: { [TEST_LABEL]: 'bench' }, HostConfig: { Init: true, NetworkMode: TEST_NETWORK } });
  try {
    await engine.startContainer(id);
    const script = [...variant.commands.map((argv) => argv.map((word) => `'${word}'`).join(' ')), 'sleep 1', 'git status --porcelain >/dev/null'].join(' && ');
    const result = await engine.exec(id, ['sh', '-c', script], { workdir: WORKSPACE });
    if (result.exitCode !== 0) {
      throw new Error(`variant ${variant.way}: ${result.stderr}`);
    }
    const tag = `${variant.way}-${process.pid}`;
    await engine.commitContainer(id, 'gitiso-bench-status', tag);
    return `gitiso-bench-status:${tag}`;
  } finally {
    await engine.removeContainer(id);
  }
}

/** The two tables: inside the tree (per variant), then as a caller sees it; ratios against the full clone's and the host's. */
export function formatStatusResults(results: StatusResults | undefined): string {
  if (!results) {
    return '';
  }
  const ms = (value: number): string => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
  const ratio = (value: number, base: StatusRow | undefined): string => (base ? `${(value / base.laterMs.median).toFixed(2)}×` : '');
  const host = results.inside.find((r) => r.way === 'host');
  const naive = results.callers.find((r) => r.way === 'naive');
  const naiveInside = results.inside.find((r) => r.way === 'naive');
  const lines = [
    '',
    `## git status on ${results.shape.files} files, timed inside the tree`,
    '| tree | first | later: p50 (min–max) | vs full clone | vs host | first run wrote the index |',
    '|---|---|---|---|---|---|',
    ...results.inside.map((r) => `| ${r.label} | ${ms(r.firstMs)} | ${ms(r.laterMs.median)} (${ms(r.laterMs.min)}–${ms(r.laterMs.max)}) | ${ratio(r.laterMs.median, naiveInside)} | ${ratio(r.laterMs.median, host)} | ${r.indexWritten ? 'yes' : 'no'} |`),
    '',
    '## git status as gitiso runs it',
    '| how | first | later: p50 (min–max) | vs full clone | vs host (inside) |',
    '|---|---|---|---|---|',
    ...results.callers.map((r) => `| ${r.label} | ${ms(r.firstMs)} | ${ms(r.laterMs.median)} (${ms(r.laterMs.min)}–${ms(r.laterMs.max)}) | ${ratio(r.laterMs.median, naive)} | ${ratio(r.laterMs.median, host)} |`),
  ];
  return lines.join('\n');
}
