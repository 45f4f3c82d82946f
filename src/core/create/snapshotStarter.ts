import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type AgentIdentity, readyStateFile, WORKSPACE } from '../agent';
import { throwIfAborted, untilAborted } from '../base/abort';
import { noTimings, timeStep } from '../base/stepTimings';
import { CreateFailedError, describeCause } from '../errors';
import { gitFailure } from '../git/gitFailure';
import type { ResolvedBase } from '../git/objectPool';
import { sessionBranchFor } from '../names';
import type { RepoSetup } from '../setup/repoSetup';
import { allowedAlready } from '../setup/setupProposal';
import { bootCommand, setupCommand, startAndAwaitBoot, type SetupArgs } from '../snapshot/agentBoot';
import type { Snapshot } from '../snapshot/snapshotStore';
import { createAgentContainer, isMissingImage, removeOnFailure } from './agentContainer';
import { agentIdentity, setupSource, type AgentStarter, type StartPlan, type StarterDeps } from './agentStarter';
import { copySetupFiles, setupAt } from './repoSetupSteps';
import { buildSnapshot, chooseSnapshot, existingSnapshot, sharingFinds, type SnapshotLookups } from './snapshotChoice';
import { startFirstAgent, type FirstAgentOutcome } from './firstAgentStart';
import { startingPoint, type StartingPoint } from './startingPoint';
import { makeOwnedTempDir } from '../tempDir';
import { withToolInstall } from '../codingAgents/toolInstall';

/** Where a delta bundle goes in an agent's container (the setup removes it). */
export const DELTA_PATH = '/tmp/gitiso-delta.bundle';

/** A bundle of commits on the host, and the ref it carries. */
interface Delta {
  readonly file: string;
  readonly ref: string;
}

/** One agent's start from a snapshot, with what it learned on the way. */
interface SnapshotStart {
  readonly plan: StartPlan;
  readonly identity: AgentIdentity;
  readonly snapshot: Snapshot;
  readonly setup: RepoSetup;
  /** The fetched base, when the agent started from the pool's copy (it may have moved on). */
  readonly latest?: Promise<ResolvedBase>;
}

/**
 * The default way: the clone is a layer of a snapshot image of the base
 * commit, shared by every agent of it. The container sets itself up as it
 * starts (no exec: see agentBoot.ts); commits the snapshot lacks go in as a
 * bundle from the pool. The first agent of a repository the pool had never
 * seen makes its own clone instead, and the snapshot follows (startFirst).
 */
export class SnapshotStarter implements AgentStarter {
  /** First agents starting without a snapshot, by repository and image. */
  private readonly firstStarts = new Set<string>();
  private readonly snapshots: SnapshotLookups;

  constructor(private readonly deps: StarterDeps) {
    this.snapshots = sharingFinds(deps.snapshots);
  }

  async start(plan: StartPlan): Promise<void> {
    const { pool, log } = this.deps;
    const point = await startingPoint(pool, log, { repoUrl: plan.repoUrl, baseBranch: plan.baseBranch, report: plan.report, signal: plan.signal });
    throwIfCancelled(plan);
    if ('fetching' in point && plan.request.toolInstall) {
      // The tool is installed once, in the snapshot its task's agents share: no first agent makes its own clone (and install) for it.
      const base = await untilAborted(point.fetching, plan.signal, `creation of agent '${plan.id}'`);
      await this.startFromSnapshot(plan, { base, setup: await this.setupOf(plan, base) });
      return;
    }
    if ('fetching' in point) {
      await this.startUnseen(plan, point.fetching);
      return;
    }
    const setup = await this.setupOf(plan, point.base);
    const found = await existingSnapshot(this.snapshots, { repoUrl: plan.repoUrl, image: plan.image, base: point.base, setup, report: plan.report, signal: plan.signal });
    if (!found && !setup.install && !plan.request.toolInstall && !this.firstStarts.has(firstKey(plan))) {
      // The pool knows the repository, this engine has no snapshot of it (another engine, or pruned): the first agent makes its own clone, as for a repository never seen.
      await this.startFirst(plan, point.latest ?? Promise.resolve(point.base));
      return;
    }
    await this.startFromSnapshot(plan, { ...point, setup }, found);
  }

  /** The agent of a base commit, with its setup read (and allowed): from its snapshot (`found` when the caller looked already), else one built. */
  private async startFromSnapshot(plan: StartPlan, at: StartingPoint & { readonly setup: RepoSetup }, found?: Snapshot): Promise<void> {
    const { base, latest, setup } = at;
    const snapshots = this.snapshots;
    const query = { repoUrl: plan.repoUrl, image: plan.image, base, setup, report: plan.report, signal: plan.signal };
    const identity = agentIdentity(plan, base, sessionBranchFor(plan.id));
    const snapshot = found ?? (await existingSnapshot(snapshots, query)) ?? (await buildSnapshot(snapshots, query));
    throwIfCancelled(plan);
    plan.report('container', 'starting the container');
    try {
      await this.startFrom({ plan, identity, snapshot, setup, latest });
    } catch (error) {
      if (!isMissingImage(error)) {
        throw error;
      }
      // Pruned between finding and using it (another process): choose again, once.
      await this.startFrom({ plan, identity, snapshot: await chooseSnapshot(snapshots, query), setup, latest });
    }
  }

  /** Before any snapshot or container of the base: a refused install or copy fails here. With the coding agent's install the create asked for. */
  private async setupOf(plan: StartPlan, base: ResolvedBase): Promise<RepoSetup> {
    const { pool, setupSettings } = this.deps;
    const setup = await timeStep(this.deps.timings ?? noTimings, 'setup read', () => setupAt(pool, setupSource(plan, setupSettings), base.commit));
    return withToolInstall(setup, plan.request.toolInstall);
  }

  /**
   * An agent of a repository the pool had never seen: the first of it (by
   * repository and image) starts its container while the pool makes its first
   * clone, and makes its own clone from the pool's objects when the base has
   * no install and no snapshot (firstAgentStart.ts), which is faster than a
   * snapshot build and a start from it; the snapshot is built once the agent is
   * ready, for the agents that follow. Creates of the same repository
   * meanwhile wait for the pool and share one snapshot build rather than make
   * a clone each.
   */
  private async startUnseen(plan: StartPlan, fetching: Promise<ResolvedBase>): Promise<void> {
    if (this.firstStarts.has(firstKey(plan))) {
      const base = await untilAborted(fetching, plan.signal, `creation of agent '${plan.id}'`);
      await this.startFromSnapshot(plan, { base, setup: await this.setupOf(plan, base) });
      return;
    }
    await this.startFirst(plan, fetching);
  }

  /** The first agent (by repository and image) with no snapshot to start from: its own clone from the pool's objects, once `fetching` says the base, unless the base needs a snapshot after all. */
  private async startFirst(plan: StartPlan, fetching: Promise<ResolvedBase>): Promise<void> {
    const first = firstKey(plan);
    this.firstStarts.add(first);
    let outcome: FirstAgentOutcome;
    try {
      plan.report('container', 'starting the container');
      outcome = await startFirstAgent(this.deps, {
        plan,
        sessionBranch: sessionBranchFor(plan.id),
        fetched: fetching,
        decide: async (base) => {
          const setup = await this.setupOf(plan, base);
          const query = { repoUrl: plan.repoUrl, image: plan.image, base, setup, report: plan.report, signal: plan.signal };
          return { setup, ownClone: !setup.install && !(await existingSnapshot(this.snapshots, query)) };
        },
      });
    } finally {
      this.firstStarts.delete(first);
    }
    const { base, setup } = outcome;
    if (!outcome.started) {
      await this.startFromSnapshot(plan, { base, setup });
      return;
    }
    this.deps.snapshots.refreshInBackground({ repoUrl: plan.repoUrl, baseImage: plan.image, base, setup });
  }

  /**
   * Creates the agent's container from the snapshot and waits for its boot.
   * When the snapshot is older than the base, the commits it lacks go in first
   * as a bundle; when the pool's fetch finds the base moved on, the agent
   * catches up before it is called ready.
   */
  private async startFrom(start: SnapshotStart): Promise<void> {
    const { engine, log, states } = this.deps;
    const { plan, identity, snapshot } = start;
    const baseCommit = identity.baseCommit ?? snapshot.baseCommit;
    const delta = baseCommit === snapshot.baseCommit ? undefined : await this.delta(start, { from: snapshot.baseCommit, to: baseCommit });
    try {
      const cmd = bootCommand(setupArgs(start, baseCommit, delta));
      const spec = { identity, image: snapshot.image, env: plan.request.env, network: plan.network, limits: plan.limits, cmd };
      const containerId = await timeStep(this.deps.timings ?? noTimings, 'agent create', () => createAgentContainer(engine, spec));
      await removeOnFailure(engine, log, { agentId: identity.id, containerId }, async () => {
        if (delta) {
          await engine.putHostFile(containerId, delta.file, DELTA_PATH);
        }
        plan.report('checkout', `creating branch ${identity.sessionBranch}`);
        await timeStep(this.deps.timings ?? noTimings, 'agent start', () => startAndAwaitBoot(engine, containerId, plan.signal));
        const commit = await this.catchUp(start, { containerId, commit: baseCommit });
        await copySetupFiles(engine, log, { containerId, setup: start.setup, from: plan.request.copyFrom });
        states.remember(containerId, readyStateFile({ branch: identity.baseBranch, commit }, snapshot.setupError));
        // Other windows and CLIs learn of the agent's readiness from the engine's events.
        await engine.announce(containerId);
      });
    } finally {
      if (delta) {
        rmSync(dirname(delta.file), { recursive: true, force: true });
      }
    }
  }

  /** When the fetch found the base moved past `at.commit`, brings the agent there; returns the commit it is on. */
  private async catchUp(start: SnapshotStart, at: { readonly containerId: string; readonly commit: string }): Promise<string> {
    const { engine } = this.deps;
    const moved = await start.latest;
    if (!moved || moved.commit === at.commit) {
      return at.commit;
    }
    const { identity, plan } = start;
    const catchUp = await this.delta(start, { from: at.commit, to: moved.commit });
    try {
      await engine.putHostFile(at.containerId, catchUp.file, DELTA_PATH);
      const setup = await engine.exec(at.containerId, setupCommand(setupArgs(start, moved.commit, catchUp)), { workdir: WORKSPACE, signal: plan.signal });
      if (setup.exitCode !== 0) {
        throw new CreateFailedError(`could not bring ${identity.sessionBranch} to ${moved.commit.slice(0, 12)}: ${gitFailure(setup.stderr)}`);
      }
      return moved.commit;
    } finally {
      rmSync(dirname(catchUp.file), { recursive: true, force: true });
    }
  }

  /**
   * A bundle of the commits from `from` to `to`, from the pool, in a temporary
   * folder of its own; the snapshot of `to` is started in the background, with
   * only the setup the agent's own was allowed (a background build never asks:
   * a changed .gitiso.json waits for the next create to be allowed).
   */
  private async delta(start: SnapshotStart, range: { readonly from: string; readonly to: string }): Promise<Delta> {
    const { pool, snapshots, log, setupSettings } = this.deps;
    const { identity, plan } = start;
    const { from, to } = range;
    const report = plan.report;
    // The next snapshot has the setup `to` has (its key is how agents will look for it).
    void setupAt(pool, { ...setupSource(plan, setupSettings), consent: allowedAlready(start.setup.allowed) }, to).then(
      (setup) => snapshots.refreshInBackground({ repoUrl: identity.repoUrl, baseImage: identity.image, base: { branch: identity.baseBranch, commit: to }, setup: withToolInstall(setup, start.setup.tool) }),
      (error: unknown) => log.warn(`no background snapshot of ${to.slice(0, 12)}: ${describeCause(error)}`),
    );
    report('fetching', `fetching the commits since the snapshot (${from.slice(0, 12)}..${to.slice(0, 12)})`);
    const file = join(makeOwnedTempDir('delta'), 'delta.bundle');
    return { file, ref: await pool.bundle(identity.repoUrl, to, file, from) };
  }
}

function setupArgs(start: SnapshotStart, commit: string, bundle?: Delta): SetupArgs {
  const { identity, plan, snapshot } = start;
  return {
    sessionBranch: identity.sessionBranch,
    userName: plan.gitIdentity.name ?? '',
    userEmail: plan.gitIdentity.email ?? '',
    bundlePath: bundle ? DELTA_PATH : '',
    bundleRef: bundle?.ref ?? '',
    baseBranch: identity.baseBranch,
    baseCommit: commit,
    stateJson: JSON.stringify(readyStateFile({ branch: identity.baseBranch, commit }, snapshot.setupError)),
  };
}

function throwIfCancelled(plan: StartPlan): void {
  throwIfAborted(plan.signal, `creation of agent '${plan.id}'`);
}

/** First agents are one at a time per repository and image: the others wait for the snapshot that follows. */
function firstKey(plan: StartPlan): string {
  return JSON.stringify([plan.repoUrl, plan.image]);
}
