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

/** A way of setting up the snapshot's clone at build time: git commands run in /workspace before the image is committed. */
interface Variant {
  readonly way: string;
  readonly label: string;
  readonly commands: readonly (readonly string[])[];
}

const VARIANTS: readonly Variant[] = [
  { way: 'untracked-cache', label: 'core.untrackedCache', commands: [['config', 'core.untrackedCache', 'true'], ['update-index', '--untracked-cache']] },
  { way: 'index-v4', label: 'index.version 4', commands: [['config', 'index.version', '4'], ['update-index', '--index-version', '4']] },
  { way: 'many-files', label: 'feature.manyFiles', commands: [['config', 'feature.manyFiles', 'true'], ['update-index', '--index-version', '4', '--untracked-cache']] },
  { way: 'split-index', label: 'core.splitIndex', commands: [['config', 'core.splitIndex', 'true'], ['update-index', '--split-index']] },
  { way: 'no-preload', label: 'core.preloadIndex false', commands: [['config', 'core.preloadIndex', 'false']] },
  { way: 'refresh', label: 'index refreshed (update-index --refresh)', commands: [['update-index', '-q', '--refresh']] },
];

/**
 * Prints one line per `git status --porcelain` run, its wall time in
 * microseconds, timed in the tree itself so no exec or channel is counted;
 * then the index's mtime before and after the first run.
 */
function timingScript(runs: number): string {
  return `cd "$1"
before=$(stat -c %Y.%y .git/index)
i=0
while [ $i -lt ${runs} ]; do
  s=$(date +%s%N); git status --porcelain >/dev/null; e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
  if [ $i -eq 0 ]; then after=$(stat -c %Y.%y .git/index); fi
  i=$((i + 1))
done
[ "$before" = "$after" ] && echo same || echo written`;
}

function rowFrom(way: string, label: string, output: string): StatusRow {
  const lines = output.trim().split('\n');
  const verdict = lines.pop();
  const times = lines.map((line) => Number(line) / 1000);
  if (times.length < 2 || times.some((t) => !Number.isFinite(t)) || (verdict !== 'same' && verdict !== 'written')) {
    throw new Error(`${way}: unexpected timing output: ${output.slice(0, 300)}`);
  }
  return { way, label, firstMs: times[0] as number, laterMs: figures(times.slice(1)), indexWritten: verdict === 'written' };
}

/**
 * `npm run bench` (BENCH_ONLY=status): `git status` on a large tree. Timed
 * inside the tree: the host's own clone, a container of the snapshot image as
 * gitiso builds it, and one of each variant set at build time (committed on
 * top of it, as a build would); then through gitiso: the agent's command
 * channel against a plain exec and a full clone in a container, with what the
 * channel and an exec cost running `true`.
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
    const inside: StatusRow[] = [];

    const hostClone = join(scratch, 'host-clone');
    execFileSync('git', ['clone', '-q', url, hostClone]);
    inside.push(rowFrom('host', 'host: git status on a host clone', execFileSync('sh', ['-c', timingScript(runs), 'timing', hostClone], { encoding: 'utf8' })));

    const agentId = 'bench-status-snapshot';
    await snapshot.creator.create({ id: agentId, repoUrl: url });
    cleanups.push(() => snapshot.agents.remove(agentId));
    const built = (await snapshot.snapshots.list()).find((s) => s.repoUrl === url);
    if (!built) {
      throw new Error('no snapshot image after the first create');
    }
    log(`status: snapshot built (${shape.files} files)`);

    // A container of an image with the agents' limits, timed inside.
    const timeIn = async (imageName: string, way: string, label: string): Promise<StatusRow> => {
      const id = await engine.createContainer({
        Image: imageName,
        Cmd: ['sleep', 'infinity'],
        Labels: { [TEST_LABEL]: 'bench' },
        HostConfig: { Init: true, NetworkMode: TEST_NETWORK, Memory: TEST_LIMITS.memoryBytes, NanoCpus: TEST_LIMITS.cpus * 1e9 },
      });
      try {
        await engine.startContainer(id);
        const result = await engine.exec(id, ['sh', '-c', timingScript(runs), 'timing', WORKSPACE]);
        return rowFrom(way, label, result.stdout);
      } finally {
        await engine.removeContainer(id);
      }
    };
    inside.push(await timeIn(built.image, 'snapshot', 'snapshot image as built'));
    for (const variant of options.oneVariant ? VARIANTS.slice(0, 1) : VARIANTS) {
      const variantImage = await buildVariant(engine, built.image, variant);
      try {
        inside.push(await timeIn(variantImage, variant.way, `snapshot image + ${variant.label}`));
      } finally {
        await engine.removeImage(variantImage).catch(() => undefined);
      }
      log(`status: variant ${variant.way} measured`);
    }

    // Through gitiso, as a caller sees it.
    const container = containerNameFor(agentId);
    const timesOf = async (way: string, label: string, body: () => Promise<unknown>): Promise<StatusRow> => {
      const times: number[] = [];
      for (let run = 0; run < runs; run++) {
        times.push((await timed(body))[0]);
      }
      return { way, label, firstMs: times[0] as number, laterMs: figures(times.slice(1)) };
    };
    const status = ['status', '--porcelain'];
    const callers: StatusRow[] = [];
    callers.push(await timesOf('channel', 'gitiso snapshot agent: git status via its channel', () => snapshot.exec.git(agentId, status)));
    callers.push(await timesOf('exec', 'gitiso snapshot agent: git status via a plain exec', () => engine.exec(container, ['git', ...status], { workdir: WORKSPACE })));
    callers.push(await timesOf('channel-true', '`true` via the channel', () => snapshot.exec.run(agentId, ['true'])));
    callers.push(await timesOf('exec-true', '`true` via a plain exec', () => engine.exec(container, ['true'], { workdir: WORKSPACE })));
    const naiveId = 'bench-status-naive';
    await naive.creator.create({ id: naiveId, repoUrl: url });
    cleanups.push(() => naive.agents.remove(naiveId));
    callers.push(await timesOf('naive', 'full clone in a container: git status via its channel', () => naive.exec.git(naiveId, status)));
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
    const script = [...variant.commands.map((args) => `git ${args.map((a) => `'${a}'`).join(' ')}`), 'sleep 1', 'git status --porcelain >/dev/null'].join(' && ');
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
  const lines = [
    '',
    `## git status on ${results.shape.files} files, timed inside the tree`,
    '| tree | first | later: p50 (min–max) | vs host | first run wrote the index |',
    '|---|---|---|---|---|',
    ...results.inside.map((r) => `| ${r.label} | ${ms(r.firstMs)} | ${ms(r.laterMs.median)} (${ms(r.laterMs.min)}–${ms(r.laterMs.max)}) | ${ratio(r.laterMs.median, host)} | ${r.indexWritten ? 'yes' : 'no'} |`),
    '',
    '## git status as gitiso runs it',
    '| how | first | later: p50 (min–max) | vs full clone | vs host (inside) |',
    '|---|---|---|---|---|',
    ...results.callers.map((r) => `| ${r.label} | ${ms(r.firstMs)} | ${ms(r.laterMs.median)} (${ms(r.laterMs.min)}–${ms(r.laterMs.max)}) | ${ratio(r.laterMs.median, naive)} | ${ratio(r.laterMs.median, host)} |`),
  ];
  return lines.join('\n');
}
