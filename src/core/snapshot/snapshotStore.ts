import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE } from '../agent';
import { confinement } from '../docker/containerSpec';
import { statusCode, type ContainerCreateOptions, type Engine } from '../docker/engine';
import { SnapshotBuildError, describeCause } from '../errors';
import { gitFailure } from '../git/gitFailure';
import type { ObjectPool, ResolvedBase } from '../git/objectPool';
import { redactCredentials, type Logger } from '../logger';
import type { AgentNetwork } from '../network/agentNetwork';
import { GITISO_VERSION } from '../version';
import { runSetupCommand } from '../setup/setupCommand';
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

/** The install a snapshot runs after its clone, and the key it is known by. */
export interface SnapshotSetup {
  readonly install?: string;
  readonly key: string;
}

const NO_SETUP: SnapshotSetup = { key: '' };

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
 * Builds the snapshot's clone inside the builder from a bundle streamed in from
 * the pool (no bind mount, so remote engines work too) and leaves the base
 * branch checked out with origin set to the real URL. The index is written
 * again a second after the checkout, so that no entry is "racily clean" (as
 * new as the index): git would re-read those files in every agent, and write
 * the index there, copying it into the agent's own layer. The stat settings
 * keep the index valid once the layer is shared: inode numbers and ctimes
 * differ between containers, content and mtimes do not.
 * $1 bundle, $2 bundle ref, $3 base branch, $4 base commit, $5 origin URL.
 */
const BUILD_SCRIPT = `set -e
git init -q "${WORKSPACE}"
cd "${WORKSPACE}"
git config core.checkStat minimal
git config core.trustctime false
git config gc.auto 0
git fetch -q "$1" "+$2:refs/remotes/origin/$3"
git checkout -q -B "$3" "$4"
git remote add origin "$5"
git config "branch.$3.remote" origin
git config "branch.$3.merge" "refs/heads/$3"
sleep 1
rm -f .git/index
git reset -q
rm -f "$1"`;

/**
 * Snapshot images: an image per base commit that holds a full clone as a layer
 * every agent of that commit shares (overlay copy-on-write: an agent's own disk
 * is only what it changes). Concurrent requests for one snapshot share a build.
 */
export class SnapshotStore {
  private readonly building = new Map<string, Promise<Snapshot>>();

  /**
   * `network`: where a build with an install runs (it may need a package
   * registry): the agents' network, so a repository's install can no more
   * reach an agent than an agent can. Builds without an install have none.
   */
  constructor(
    private readonly engine: Engine,
    private readonly pool: ObjectPool,
    private readonly log: Logger,
    private readonly network: Pick<AgentNetwork, 'resolve'>,
  ) {}

  /** The snapshot for exactly this commit (and setup), built now when missing. */
  async ensure(repoUrl: string, baseImage: string, base: ResolvedBase, setup: SnapshotSetup = NO_SETUP): Promise<Snapshot> {
    const baseImageId = await this.engine.imageId(baseImage);
    const key = snapshotKey({ repoUrl, baseImageId, commit: base.commit, setupKey: setup.key });
    const existing = await this.inspect(`${SNAPSHOT_REPO}:${key}`);
    if (existing) {
      return existing;
    }
    let build = this.building.get(key);
    if (!build) {
      build = this.build({ key, repoUrl, baseImage, baseImageId, base, setup }).finally(() => this.building.delete(key));
      this.building.set(key, build);
    }
    return build;
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
  refreshInBackground(repoUrl: string, baseImage: string, base: ResolvedBase, setup: SnapshotSetup = NO_SETUP): void {
    void this.ensure(repoUrl, baseImage, base, setup).catch((error: unknown) => this.log.warn(`background snapshot of ${redactCredentials(repoUrl)} failed: ${describeCause(error)}`));
  }

  async list(): Promise<Snapshot[]> {
    const images = await this.engine.listImages(SNAPSHOT_LABEL.key);
    return images.flatMap((info) => {
      const snapshot = fromLabels(info.Labels, info.RepoTags?.find((tag) => tag.startsWith(`${SNAPSHOT_REPO}:`)) ?? info.Id, info.Size);
      return snapshot ? [snapshot] : [];
    });
  }

  /**
   * Removes snapshots no container uses when a newer one of their family
   * (image, repository, base branch and setup: pruneChoice.ts) replaces them,
   * or when they are older than `graceMs` (the newest of each is kept that
   * long: it is what the next agent starts from). `prune(0)` removes every
   * unused snapshot. Returns what it removed.
   */
  async prune(graceMs: number): Promise<Snapshot[]> {
    const containers = await this.engine.listContainers();
    const inUse = new Set(containers.flatMap((c) => [c.ImageID, c.Image]));
    const images = await this.engine.listImages(SNAPSHOT_LABEL.key);
    const snapshots = images.flatMap((info) => {
      const snapshot = fromLabels(info.Labels, info.RepoTags?.[0] ?? info.Id, info.Size);
      return snapshot ? [{ id: info.Id, snapshot }] : [];
    });
    const removed: Snapshot[] = [];
    for (const { id, snapshot } of snapshotsToPrune({ snapshots, inUse, now: Date.now(), graceMs })) {
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

  /** Another process builds this snapshot: wait for its image (or for its builder to go, then fail clearly). */
  private async awaitOtherBuild(key: string, image: string): Promise<Snapshot> {
    for (let waited = 0; waited < 10 * 60_000; waited += 250) {
      const snapshot = await this.inspect(image);
      if (snapshot) {
        return snapshot;
      }
      if (!(await this.engine.inspectContainer(`${BUILDER_PREFIX}${key}`))) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new SnapshotBuildError(`another build of snapshot ${image} did not finish: try again`);
  }

  private async inspect(image: string): Promise<Snapshot | undefined> {
    const info = await this.engine.inspectImage(image).catch(() => undefined);
    return info && fromLabels(info.Config.Labels ?? undefined, image, info.Size);
  }

  /**
   * Runs the repository's install in the builder, once for every agent of the
   * snapshot; its output goes to the log. A failed install does not fail the
   * build: the snapshot carries the error, and its agents are ready but marked.
   */
  private async install(builder: string, command: string): Promise<string | undefined> {
    const started = Date.now();
    this.log.info(`snapshot setup: ${command}`);
    const result = await runSetupCommand(this.engine, { containerId: builder, command, log: this.log });
    if (result) {
      this.log.warn(`snapshot setup failed: ${result}`);
    } else {
      this.log.info(`snapshot setup done in ${Date.now() - started} ms`);
    }
    return result;
  }

  private async build(plan: BuildPlan): Promise<Snapshot> {
    const { key, repoUrl, base, setup } = plan;
    const started = Date.now();
    const image = `${SNAPSHOT_REPO}:${key}`;
    const scratch = mkdtempSync(join(tmpdir(), 'gitiso-bundle-'));
    const bundleFile = join(scratch, 'base.bundle');
    let builder: string | undefined;
    try {
      const bundleRef = await this.pool.bundle(repoUrl, base.commit, bundleFile);
      try {
        const network = setup.install ? await this.network.resolve() : 'none';
        builder = await this.engine.createContainer(builderSpec(plan, network));
      } catch (error) {
        if (statusCode(error) === 409) {
          return await this.awaitOtherBuild(key, image);
        }
        throw error;
      }
      await this.engine.startContainer(builder);
      await this.engine.putHostFile(builder, bundleFile, '/tmp/gitiso-base.bundle');
      const result = await this.engine.exec(builder, ['sh', '-c', BUILD_SCRIPT, 'gitiso-snapshot', '/tmp/gitiso-base.bundle', bundleRef, base.branch, base.commit, repoUrl]);
      if (result.exitCode !== 0) {
        throw new SnapshotBuildError(`could not build the snapshot of ${redactCredentials(repoUrl)}: ${gitFailure(result.stderr)}`);
      }
      const setupError = setup.install ? await this.install(builder, setup.install) : undefined;
      await this.engine.commitContainer(builder, SNAPSHOT_REPO, key, setupError ? { [SNAPSHOT_LABEL.setupError]: setupError } : {});
      this.log.info(`snapshot ${image} of ${redactCredentials(repoUrl)} at ${base.commit.slice(0, 12)} built in ${Date.now() - started} ms`);
      const snapshot = await this.inspect(image);
      if (!snapshot) {
        throw new SnapshotBuildError(`snapshot ${image} vanished right after it was built`);
      }
      return snapshot;
    } finally {
      if (builder) {
        await this.engine.removeContainer(builder).catch(() => undefined);
      }
      rmSync(scratch, { recursive: true, force: true });
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

function builderSpec({ key, repoUrl, baseImage, baseImageId, base, setup }: BuildPlan, network: string): ContainerCreateOptions {
  return {
    Image: baseImage,
    Cmd: ['sleep', 'infinity'],
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
      [SNAPSHOT_LABEL.created]: new Date().toISOString(),
      [SNAPSHOT_LABEL.version]: GITISO_VERSION,
    },
    HostConfig: { Init: true, NetworkMode: network, ...confinement() },
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
