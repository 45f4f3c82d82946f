import { createHash } from 'node:crypto';
import { LABEL, WORKSPACE } from '../agent';
import { confinement } from '../docker/containerSpec';
import { throwIfAborted, withTimeout } from '../base/abort';
import { SharedTasks } from '../base/sharedTask';
import { noTimings, timeStep, type StepTimings } from '../base/stepTimings';
import { DEFAULT_INSTALL_TIMEOUT_SECONDS } from '../defaults';
import { statusCode, type ContainerCreateOptions, type Engine } from '../docker/engine';
import { SnapshotBuildError, describeCause } from '../errors';
import { gitFailure } from '../git/gitFailure';
import type { ObjectPool, ResolvedBase } from '../git/objectPool';
import { DEFAULT_LIMITS, type AgentLimits } from '../limits/agentLimits';
import { redactCredentials, silentLogger, type Logger } from '../logger';
import type { AgentNetwork } from '../network/agentNetwork';
import { formatOwner, liveness, OWNER_LABEL } from '../ownership';
import { GITISO_VERSION } from '../version';
import { runSetupCommand } from '../setup/setupCommand';
import { installTool, type ToolInstall } from '../codingAgents/toolInstall';
import { BUILD_ALLOWANCE_MS, deadlineLabels, isBuilderAbandoned, watchdogCommand } from './builderLifetime';
import { reportSteps, STEP_FUNCTION } from './buildSteps';
import { CLONE_FROM_OBJECTS, OBJECTS_STAGING } from './cloneFromObjects';
import { snapshotsToPrune } from './pruneChoice';

export const SNAPSHOT_REPO = 'gitiso-snapshot';

/** How long the newest unused snapshot of a repository is kept for the next agent. */
export const SNAPSHOT_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

export const SNAPSHOT_LABEL = {
  key: 'gitiso.snapshot',
  repo: 'gitiso.repo',
  baseBranch: 'gitiso.base-branch',
  baseCommit: 'gitiso.base-commit',
  baseImage: 'gitiso.base-image',
  setupKey: 'gitiso.setup-key',
  setupError: 'gitiso.setup-error',
  created: 'gitiso.created',
  version: 'gitiso.version',
} as const;

/** Builders are named, so one build per snapshot runs across processes and leftovers can be found. */
export const BUILDER_PREFIX = 'gitiso-snapshot-build-';

export interface Snapshot {
  readonly key: string;
  readonly image: string;
  readonly repoUrl: string;
  readonly baseBranch: string;
  readonly baseCommit: string;
  readonly baseImageId: string;
  readonly createdAt: Date;
  readonly sizeBytes?: number;
  /** The setup's key ('' without an install) and, when its install failed, why. */
  readonly setupKey: string;
  readonly setupError?: string;
}

/** The installs a snapshot runs after its clone (the repository's, then the coding agent's), and the key it is known by. */
export interface SnapshotSetup {
  readonly install?: string;
  readonly tool?: ToolInstall;
  readonly key: string;
}

const NO_SETUP: SnapshotSetup = { key: '' };

/** A snapshot to have: of `base`, with `setup`, from `baseImage`. */
export interface SnapshotRequest {
  readonly repoUrl: string;
  readonly baseImage: string;
  readonly base: ResolvedBase;
  readonly setup?: SnapshotSetup;
  /** Stops the build when no other create waits for it. */
  readonly signal?: AbortSignal;
}

/** What the snapshot images ask of the engine. */
export type SnapshotEngine = Pick<
  Engine,
  'imageId' | 'inspectImage' | 'listImages' | 'listContainers' | 'removeImage' | 'createContainer' | 'inspectContainer' | 'removeContainer' | 'startContainer' | 'holdStdin' | 'putHostFiles' | 'exec' | 'commitContainer'
>;

export interface SnapshotStoreOptions {
  readonly engine: SnapshotEngine;
  readonly pool: Pick<ObjectPool, 'objectFiles' | 'isAncestor'>;
  readonly log?: Logger;
  /**
   * Where a build with an install runs (it may need a package registry): the
   * agents' network, so a repository's install can no more reach an agent
   * than an agent can. Builds without an install have none.
   */
  readonly network: Pick<AgentNetwork, 'resolve'>;
  /** The builder's limits: those of the agents (it runs the repository's own install). */
  readonly builderLimits?: () => Promise<AgentLimits>;
  /** How long each install (the repository's, the coding agent's) may run. */
  readonly installTimeoutMs?: number;
  /** Told how long each step of a build took. */
  readonly timings?: StepTimings;
}

const WAIT_POLL_MS = 250;

export interface SnapshotIdentity {
  readonly repoUrl: string;
  readonly baseImageId: string;
  readonly commit: string;
  /** The per-repository setup's key (install command and lockfiles); '' without an install. */
  readonly setupKey?: string;
}

/** A snapshot's key: one per (agent image, repository, base commit, setup). */
export function snapshotKey(identity: SnapshotIdentity): string {
  const text = JSON.stringify([identity.baseImageId, identity.repoUrl, identity.commit, identity.setupKey ?? '']);
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/**
/**
 * Builds the snapshot's clone inside the builder from the pool's object files
 * sent as they are through the archive API (no bind mount, so remote engines
 * work too): see cloneFromObjects.ts. Entries of the last second of the
 * checkout are "racily clean" (as new as the index): git would re-read those
 * files in every agent, and write the index there, copying it into the agent's
 * own layer; so the index is refreshed a second later, which hashes only those.
 * \`git write-tree\` stores the cache tree in the index: without it every
 * \`git status\` in every agent reads all of the commit's trees to compare
 * HEAD with the index (a third of its time on 50,000 files). The last
 * \`git status\` fills the untracked cache (core.untrackedCache, set by the
 * clone), so each agent starts with it valid and never writes the index for it
 * (measured: 0.86× the status time of a full clone on 50,000 files; index
 * version 4, a split index or feature.manyFiles gained nothing more).
 * $1 the staged objects, $2 base branch, $3 base commit, $4 origin URL.
 */
const BUILD_SCRIPT = `set -e
${STEP_FUNCTION}
step start
objects=$1 branch=$2 commit=$3 origin=$4
${CLONE_FROM_OBJECTS}
sleep 1
git update-index -q --refresh
git write-tree >/dev/null
git status --porcelain >/dev/null
step 'index refresh'`;

/**
 * After the repository's install: the index and its untracked cache again (a
 * second later, so that nothing the install wrote is as new as the index),
 * since the install changed folders: else every agent would find them
 * changed, read them again and write the index into its own layer.
 */
const REFRESH_AFTER_INSTALL = ['sh', '-c', 'sleep 1 && git status --porcelain >/dev/null'];

/**
 * Snapshot images: an image per base commit that holds a full clone as a layer
 * every agent of that commit shares (overlay copy-on-write: an agent's own disk
 * is only what it changes). Concurrent requests for one snapshot share a build.
 */
export class SnapshotStore {
  private readonly building = new SharedTasks<Snapshot>();

  /** Builds asked for in the background that have not settled (counted from the ask: a build registers only after its look-ups). */
  private backgroundBuilds = 0;

  /** Snapshot builds this process runs now (a first agent's snapshot follows it in the background). */
  get buildsRunning(): number {
    return Math.max(this.building.size, this.backgroundBuilds);
  }
  private readonly engine: SnapshotEngine;
  private readonly pool: Pick<ObjectPool, 'objectFiles' | 'isAncestor'>;
  private readonly log: Logger;
  private readonly installTimeoutMs: number;
  private readonly timings: StepTimings;

  constructor(private readonly options: SnapshotStoreOptions) {
    this.engine = options.engine;
    this.pool = options.pool;
    this.log = options.log ?? silentLogger;
    this.installTimeoutMs = options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_SECONDS * 1000;
    this.timings = options.timings ?? noTimings;
  }

  /** The snapshot for exactly this commit (and setup), built now when missing. */
  async ensure(request: SnapshotRequest): Promise<Snapshot> {
    const { repoUrl, baseImage, base, setup = NO_SETUP, signal } = request;
    const baseImageId = await this.engine.imageId(baseImage);
    const key = snapshotKey({ repoUrl, baseImageId, commit: base.commit, setupKey: setup.key });
    const existing = await this.inspect(`${SNAPSHOT_REPO}:${key}`);
    if (existing) {
      return existing;
    }
    const plan = { key, repoUrl, baseImage, baseImageId, base, setup };
    return this.building.run({ key, what: `snapshot build of ${redactCredentials(repoUrl)}`, signal }, (shared) => this.build(plan, shared));
  }

  /** The snapshot of exactly this commit and setup, if it exists. */
  async find(repoUrl: string, baseImage: string, commit: string, setupKey = ''): Promise<Snapshot | undefined> {
    const baseImageId = await this.engine.imageId(baseImage);
    return this.inspect(`${SNAPSHOT_REPO}:${snapshotKey({ repoUrl, baseImageId, commit, setupKey })}`);
  }

  /**
   * The newest snapshot of this repository, image and setup whose commit is an
   * ancestor of `commit` (for a delta fetch). Only the same setup key will do:
   * its installed dependencies match the lockfiles.
   */
  async findAncestor(repoUrl: string, baseImage: string, commit: string, setupKey = ''): Promise<Snapshot | undefined> {
    const baseImageId = await this.engine.imageId(baseImage);
    const candidates = (await this.list()).filter((s) => s.repoUrl === repoUrl && s.baseImageId === baseImageId && s.setupKey === setupKey && !s.setupError).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    for (const candidate of candidates) {
      if (await this.pool.isAncestor(repoUrl, candidate.baseCommit, commit)) {
        return candidate;
      }
    }
    return undefined;
  }

  /** Builds the snapshot for `base` unless it exists or is being built; errors are logged, not thrown. */
  refreshInBackground(request: Omit<SnapshotRequest, 'signal'>): void {
    this.backgroundBuilds++;
    void this.ensure(request)
      .catch((error: unknown) => this.log.warn(`background snapshot of ${redactCredentials(request.repoUrl)} failed: ${describeCause(error)}`))
      .finally(() => this.backgroundBuilds--);
  }

  async list(): Promise<Snapshot[]> {
    const images = await this.engine.listImages(SNAPSHOT_LABEL.key);
    return images.flatMap((info) => {
      const snapshot = fromLabels(info.Labels, info.RepoTags?.find((tag) => tag.startsWith(`${SNAPSHOT_REPO}:`)) ?? info.Id, info.Size);
      return snapshot ? [snapshot] : [];
    });
  }

  /**
   * Snapshots no container uses that a newer one of their family (image,
   * repository, base branch and setup: pruneChoice.ts) replaces, or older
   * than `graceMs` (the newest of each is kept that long: it is what the next
   * agent starts from). With 0: every unused one.
   */
  async unused(graceMs: number): Promise<{ readonly id: string; readonly snapshot: Snapshot }[]> {
    const containers = await this.engine.listContainers();
    const inUse = new Set(containers.flatMap((c) => [c.ImageID, c.Image]));
    const images = await this.engine.listImages(SNAPSHOT_LABEL.key);
    const snapshots = images.flatMap((info) => {
      const snapshot = fromLabels(info.Labels, info.RepoTags?.[0] ?? info.Id, info.Size);
      return snapshot ? [{ id: info.Id, snapshot }] : [];
    });
    // The snapshot built after a first agent (which made its own clone) is what the next agent of its commit starts from.
    const agentBases = new Set(containers.flatMap((c) => (c.Labels?.[LABEL.agent] ? [JSON.stringify([c.Labels[LABEL.repo], c.Labels[LABEL.baseCommit]])] : [])));
    for (const { id, snapshot } of snapshots) {
      if (agentBases.has(JSON.stringify([snapshot.repoUrl, snapshot.baseCommit]))) {
        inUse.add(id);
      }
    }
    return snapshotsToPrune({ snapshots, inUse, now: Date.now(), graceMs });
  }

  /** Removes what `unused(graceMs)` names (`prune(0)`: every unused snapshot). Returns what it removed. */
  async prune(graceMs: number): Promise<Snapshot[]> {
    const removed: Snapshot[] = [];
    for (const { id, snapshot } of await this.unused(graceMs)) {
      try {
        await this.engine.removeImage(id);
        removed.push(snapshot);
      } catch (error) {
        this.log.debug(`snapshot ${snapshot.image} kept: ${describeCause(error)}`);
      }
    }
    if (removed.length > 0) {
      this.log.info(`pruned ${removed.length} unused snapshot(s)`);
    }
    return removed;
  }

  /** Prunes with the default grace period, in the background; used after an agent goes. */
  pruneInBackground(): void {
    void this.prune(SNAPSHOT_GRACE_MS).catch((error: unknown) => this.log.debug(`snapshot pruning failed: ${describeCause(error)}`));
  }

  /**
   * Creates the builder, named after the snapshot so one build runs across
   * processes. When another's builder exists: its image is waited for while
   * its creator lives and its deadline holds; an abandoned one (its creator
   * ended, or its time is up) is removed and the build taken over.
   */
  private async claimBuilder(plan: BuildPlan, spec: ContainerCreateOptions, signal: AbortSignal): Promise<{ builder: string } | { snapshot: Snapshot }> {
    const image = `${SNAPSHOT_REPO}:${plan.key}`;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal, `snapshot build of ${redactCredentials(plan.repoUrl)}`);
      // After a wait, the other build may have finished (and its builder gone): its image, not a second build.
      const snapshot = attempt > 0 ? await this.inspect(image) : undefined;
      if (snapshot) {
        return { snapshot };
      }
      try {
        return { builder: await this.engine.createContainer(spec) };
      } catch (error) {
        if (statusCode(error) !== 409) {
          throw error;
        }
      }
      const other = await this.engine.inspectContainer(`${BUILDER_PREFIX}${plan.key}`);
      if (other && isBuilderAbandoned(other.Config.Labels ?? undefined, liveness())) {
        this.log.warn(`snapshot ${image}: its builder was abandoned by ${other.Config.Labels?.[OWNER_LABEL] ?? 'an older gitiso'}; building it again`);
        await this.engine.removeContainer(other.Id).catch((error: unknown) => this.log.debug(`removing the abandoned builder: ${describeCause(error)}`));
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }

  private async inspect(image: string): Promise<Snapshot | undefined> {
    const info = await this.engine.inspectImage(image).catch(() => undefined);
    return info && fromLabels(info.Config.Labels ?? undefined, image, info.Size);
  }

  /**
   * Runs the repository's install in the builder, once for every agent of the
   * snapshot; its output goes to the log. A failed install does not fail the
   * build: the snapshot carries the error, and its agents are ready but marked.
   * One that outlasts its time limit fails the build (the builder goes, and
   * with it whatever the install started).
   */
  private async install(builder: string, run: { readonly command: string; readonly signal: AbortSignal }): Promise<string | undefined> {
    const { command, signal } = run;
    const started = Date.now();
    this.log.info(`snapshot setup: ${command}`);
    const result = await runSetupCommand(this.engine, {
      containerId: builder,
      command,
      log: this.log,
      signal,
      timeout: { ms: this.installTimeoutMs, error: (seconds) => new SnapshotBuildError(`the repository's install '${command}' did not finish within ${seconds} s: fix it, or allow it longer (gitiso.setup.installTimeoutSeconds, --install-timeout)`) },
    });
    if (result) {
      this.log.warn(`snapshot setup failed: ${result}`);
    } else {
      this.log.info(`snapshot setup done in ${Date.now() - started} ms`);
    }
    return result;
  }

  /**
   * The index and its untracked cache written again after the install. The
   * install may have left git config that runs commands (in the builder, as
   * the install itself did), so this is bounded by the install's time limit;
   * its failure costs only speed: each agent would refresh the index itself.
   */
  private async refreshAfterInstall(builder: string, signal: AbortSignal): Promise<void> {
    try {
      const result = await this.engine.exec(builder, REFRESH_AFTER_INSTALL, { workdir: WORKSPACE, signal: withTimeout(signal, this.installTimeoutMs) });
      if (result.exitCode !== 0) {
        this.log.warn(`snapshot: the index was not refreshed after the install: ${gitFailure(result.stderr)}`);
      }
    } catch (error) {
      if (signal.aborted) {
        throw error;
      }
      this.log.warn(`snapshot: the index was not refreshed after the install: ${describeCause(error)}`);
    }
  }

  private async build(plan: BuildPlan, signal: AbortSignal): Promise<Snapshot> {
    const { key, repoUrl, base, setup } = plan;
    const started = Date.now();
    const image = `${SNAPSHOT_REPO}:${key}`;
    let builder: string | undefined;
    let hold: { release(): void } | undefined;
    try {
      const files = await timeStep(this.timings, 'object files', () => this.pool.objectFiles(repoUrl));
      const installs = (setup.install ? 1 : 0) + (setup.tool ? 1 : 0);
      const network = installs > 0 ? await this.options.network.resolve() : 'none';
      const limits = (await this.options.builderLimits?.()) ?? DEFAULT_LIMITS;
      const limitMs = installs * this.installTimeoutMs + BUILD_ALLOWANCE_MS;
      const claiming = performance.now();
      const claimed = await this.claimBuilder(plan, builderSpec(plan, { network, limits, limitMs }), signal);
      if ('snapshot' in claimed) {
        return claimed.snapshot;
      }
      const running = claimed.builder;
      builder = running;
      // Held before the start: from then on the builder ends with this process.
      hold = await this.engine.holdStdin(running);
      // The objects go in while the builder starts.
      const transfer = timeStep(this.timings, 'transfer', () => this.engine.putHostFiles(running, { dir: OBJECTS_STAGING, files }));
      transfer.catch(() => undefined); // awaited below
      await this.engine.startContainer(running);
      this.timings('builder start', performance.now() - claiming);
      await transfer;
      const result = await this.engine.exec(running, ['sh', '-c', BUILD_SCRIPT, 'gitiso-snapshot', OBJECTS_STAGING, base.branch, base.commit, repoUrl], { signal });
      if (result.exitCode !== 0) {
        throw new SnapshotBuildError(`could not build the snapshot of ${redactCredentials(repoUrl)}: ${gitFailure(result.stderr)}`);
      }
      reportSteps(result.stdout, this.timings);
      const setupError = setup.install ? await timeStep(this.timings, 'install', () => this.install(running, { command: setup.install as string, signal })) : undefined;
      if (setup.tool) {
        // A failure fails the build: no snapshot of a task's agents without their tool is kept.
        const tool = setup.tool;
        await timeStep(this.timings, 'tool install', () => installTool(this.engine, { containerId: running, tool, log: this.log, signal, timeoutMs: this.installTimeoutMs }));
      }
      if (setup.install) {
        await this.refreshAfterInstall(running, signal);
      }
      throwIfAborted(signal, `snapshot build of ${redactCredentials(repoUrl)}`);
      await timeStep(this.timings, 'image commit', () => this.engine.commitContainer(running, SNAPSHOT_REPO, key, setupError ? { [SNAPSHOT_LABEL.setupError]: setupError } : {}));
      this.log.info(`snapshot ${image} of ${redactCredentials(repoUrl)} at ${base.commit.slice(0, 12)} built in ${Date.now() - started} ms`);
      const snapshot = await this.inspect(image);
      if (!snapshot) {
        throw new SnapshotBuildError(`snapshot ${image} vanished right after it was built`);
      }
      return snapshot;
    } finally {
      hold?.release();
      if (builder) {
        // Not waited for: removing a layer of many files takes long, and the snapshot is there. Another
        // build of it waits for the name meanwhile, then finds the image; the doctor finds one left over.
        void timeStep(this.timings, 'builder removal', () => this.engine.removeContainer(builder as string)).catch((error: unknown) => this.log.debug(`removing the builder: ${describeCause(error)}`));
      }
    }
  }
}

/** What one snapshot build makes: the snapshot of `base` with `setup`, from `baseImage`. */
interface BuildPlan {
  readonly key: string;
  readonly repoUrl: string;
  readonly baseImage: string;
  readonly baseImageId: string;
  readonly base: ResolvedBase;
  readonly setup: SnapshotSetup;
}

/**
 * The builder: the agents' limits (it runs the repository's own install),
 * labels that say who made it and until when it may run, and a command that
 * ends with its creator or at that deadline (see builderLifetime.ts), after
 * which the engine removes it.
 */
function builderSpec({ key, repoUrl, baseImage, baseImageId, base, setup }: BuildPlan, run: { readonly network: string; readonly limits: AgentLimits; readonly limitMs: number }): ContainerCreateOptions {
  const { network, limits, limitMs } = run;
  const now = Date.now();
  return {
    Image: baseImage,
    Cmd: watchdogCommand(limitMs),
    OpenStdin: true,
    StdinOnce: true,
    WorkingDir: WORKSPACE,
    // Committed with the container: these become the snapshot image's labels.
    name: `${BUILDER_PREFIX}${key}`,
    Labels: {
      [SNAPSHOT_LABEL.key]: key,
      [SNAPSHOT_LABEL.repo]: repoUrl,
      [SNAPSHOT_LABEL.baseBranch]: base.branch,
      [SNAPSHOT_LABEL.baseCommit]: base.commit,
      [SNAPSHOT_LABEL.baseImage]: baseImageId,
      [SNAPSHOT_LABEL.setupKey]: setup.key,
      [SNAPSHOT_LABEL.created]: new Date(now).toISOString(),
      [SNAPSHOT_LABEL.version]: GITISO_VERSION,
      [OWNER_LABEL]: formatOwner(),
      ...deadlineLabels(now, limitMs),
    },
    HostConfig: {
      Init: true,
      AutoRemove: true,
      NetworkMode: network,
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      ...confinement(),
    },
  };
}

function fromLabels(labels: Record<string, string> | undefined, image: string, size?: number): Snapshot | undefined {
  const key = labels?.[SNAPSHOT_LABEL.key];
  if (!labels || !key) {
    return undefined;
  }
  return {
    key,
    image,
    repoUrl: labels[SNAPSHOT_LABEL.repo] ?? '',
    baseBranch: labels[SNAPSHOT_LABEL.baseBranch] ?? '',
    baseCommit: labels[SNAPSHOT_LABEL.baseCommit] ?? '',
    baseImageId: labels[SNAPSHOT_LABEL.baseImage] ?? '',
    createdAt: new Date(labels[SNAPSHOT_LABEL.created] ?? 0),
    sizeBytes: size,
    setupKey: labels[SNAPSHOT_LABEL.setupKey] ?? '',
    setupError: labels[SNAPSHOT_LABEL.setupError] || undefined,
  };
}
