import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Agent, agentState, type ContainerFacts, creationAbandoned, identityFromLabels, LABEL } from './agent';
import type { AgentExec, RunOptions } from './agentExec';
import { inspectAgent } from './agentLookup';
import { DELTA_PATH } from './create/snapshotStarter';
import { LIMIT_LABEL } from './docker/containerSpec';
import type { Engine } from './docker/engine';
import { AgentNotFoundError, AgentNotRunningError, describeCause, SyncFailedError } from './errors';
import { gitFailure } from './git/gitFailure';
import { OBJECT_ID } from './git/objectId';
import type { ObjectPool } from './git/objectPool';
import type { Admission } from './limits/admission';
import { BUDGET_FILE, budgetJson, DEFAULT_LIMITS, type AgentLimits } from './limits/agentLimits';
import { silentLogger, type Logger } from './logger';
import type { ReadyStates } from './readyStates';
import type { SnapshotStore } from './snapshot/snapshotStore';
import { makeOwnedTempDir } from './tempDir';
import { liveness } from './ownership';
import { deleteWorkRefs } from './roundTrip/poolRefs';
import { workRepoPath } from './roundTrip/workRepo';
import type { UsageStore } from './apiProxy/usageStore';

export interface AgentServiceOptions {
  readonly engine: Engine;
  readonly exec: AgentExec;
  readonly pool: ObjectPool;
  readonly snapshots: SnapshotStore;
  readonly states: ReadyStates;
  readonly admission: Admission;
  /** Each agent's kept API usage: an agent's goes with it. */
  readonly apiUsage?: Pick<UsageStore, 'forget'>;
  readonly log?: Logger;
}

/**
 * The agents that exist: list, get, start, stop, remove, sync with the
 * remote, and limits. Holds no state of its own that matters: every agent is
 * rebuilt from its container, so two processes (VS Code and the CLI) see the
 * same agents. Creation is the creator's (src/core/create/).
 */
export class AgentService {
  private readonly engine: Engine;
  private readonly exec: AgentExec;
  private readonly states: ReadyStates;
  private readonly log: Logger;
  /** Whether the saved states of containers gone since were dropped (once per process is enough). */
  private statesPruned = false;

  constructor(private readonly options: AgentServiceOptions) {
    this.engine = options.engine;
    this.exec = options.exec;
    this.states = options.states;
    this.log = options.log ?? silentLogger;
  }

  /** Every agent on the engine, rebuilt from its container, oldest first. */
  async list(): Promise<Agent[]> {
    const containers = await this.engine.listContainers(LABEL.agent);
    if (!this.statesPruned) {
      this.statesPruned = true;
      this.states.keepOnly(containers.map((info) => info.Id));
    }
    const agents = await Promise.all(
      containers.map((info) => {
        const running = info.State === 'running';
        return this.toAgent({ containerId: info.Id, labels: info.Labels, image: info.Image }, { running, status: info.Status, neverStarted: info.State === 'created' });
      }),
    );
    return agents.filter((agent): agent is Agent => agent !== undefined).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<Agent> {
    const info = await inspectAgent(this.engine, id);
    const agent = await this.toAgent(
      { containerId: info.Id, labels: info.Config.Labels, image: info.Config.Image },
      { running: info.State.Running, status: info.State.Status, oomKilled: info.State.OOMKilled, neverStarted: info.State.Status === 'created' },
    );
    if (!agent) {
      throw new AgentNotFoundError(id);
    }
    return agent;
  }

  /**
   * The agent of one container, by the container's id (an engine event names it): one inspect,
   * not a listing of every agent; undefined when the container is gone or is no agent.
   */
  async agentOf(containerId: string): Promise<Agent | undefined> {
    const info = await this.engine.inspectContainer(containerId);
    if (!info) {
      return undefined;
    }
    return this.toAgent(
      { containerId: info.Id, labels: info.Config.Labels, image: info.Config.Image },
      { running: info.State.Running, status: statusOf(info.State), oomKilled: info.State.OOMKilled, neverStarted: info.State.Status === 'created' },
    );
  }

  /** Removes the agent's container and everything it owns. */
  async remove(id: string): Promise<void> {
    const info = await inspectAgent(this.engine, id);
    this.exec.forget(id);
    await this.engine.removeContainer(info.Id);
    this.states.forget(info.Id);
    this.log.info(`removed agent '${id}'`);
    // A new agent of the same id starts from nothing (best effort: the next proxy start drops it anyway).
    await this.options.apiUsage?.forget([id]).catch((error: unknown) => this.log.warn(`could not drop the API usage of '${id}': ${describeCause(error)}`));
    await this.forgetWork(id, identityFromLabels(info.Config.Labels)?.repoUrl);
    this.options.snapshots.pruneInBackground();
  }

  /** Its work brought home (`refs/gitiso/<id>/*` in the pool) goes with it; best effort: a pool that cannot be written keeps them. */
  private async forgetWork(id: string, repoUrl: string | undefined): Promise<void> {
    const mirror = repoUrl ? workRepoPath(this.options.pool, repoUrl) : undefined;
    if (!mirror || !existsSync(join(mirror, 'HEAD'))) {
      return;
    }
    await deleteWorkRefs(mirror, id).catch((error: unknown) => this.log.warn(`could not delete the refs of '${id}' in the pool: ${describeCause(error)}`));
  }

  async stop(id: string): Promise<void> {
    const info = await inspectAgent(this.engine, id);
    this.exec.forget(id);
    await this.engine.stopContainer(info.Id);
    this.states.forget(info.Id);
  }

  async start(id: string): Promise<void> {
    const info = await inspectAgent(this.engine, id);
    await this.engine.startContainer(info.Id);
  }

  /**
   * Changes a running agent's limits in place (the engine updates its cgroup)
   * and rewrites its budget file; its GITISO_* variables keep the values it was
   * created with, since a container's environment cannot change.
   */
  async updateLimits(id: string, change: Partial<AgentLimits>): Promise<AgentLimits> {
    const info = await inspectAgent(this.engine, id);
    const current: AgentLimits = {
      memoryBytes: info.HostConfig.Memory || DEFAULT_LIMITS.memoryBytes,
      cpus: info.HostConfig.NanoCpus ? info.HostConfig.NanoCpus / 1e9 : DEFAULT_LIMITS.cpus,
      pids: info.HostConfig.PidsLimit || DEFAULT_LIMITS.pids,
    };
    const limits = await this.options.admission.limitsFor({ ...current, ...change });
    await this.engine.updateResources(info.Id, limits);
    if (info.State.Running) {
      await this.engine.putFile(info.Id, BUDGET_FILE, budgetJson(limits));
    }
    this.log.info(`limits of '${id}': ${limits.memoryBytes} bytes, ${limits.cpus} CPUs, ${limits.pids} processes`);
    return limits;
  }

  /**
   * Brings what the remote has now into an existing agent: the pool fetches,
   * and the commits the agent lacks go in as a bundle to `origin/<base>` (the
   * agent needs no credentials and no network). The session branch is left
   * alone: merging or rebasing is the agent's business. Returns the new tip.
   */
  async sync(id: string, options: Pick<RunOptions, 'signal'> = {}): Promise<{ branch: string; from: string; to: string }> {
    const { pool } = this.options;
    const agent = await this.get(id);
    if (agent.state !== 'ready' && agent.state !== 'error') {
      throw new AgentNotRunningError(id, agent.state);
    }
    await pool.sync(agent.repoUrl, options.signal);
    const latest = await pool.resolve(agent.repoUrl, agent.baseBranch || undefined);
    const tracking = `refs/remotes/origin/${latest.branch}`;
    // What the agent's git prints goes into the host's git: only an object id, else unknown (the whole history is sent).
    const printed = (await this.exec.git(id, ['rev-parse', '--verify', '--quiet', tracking], options)).stdout.trim();
    const current = OBJECT_ID.test(printed) ? printed : '';
    if (current === latest.commit) {
      return { branch: latest.branch, from: current, to: current };
    }
    const scratch = makeOwnedTempDir('sync');
    try {
      const file = join(scratch, 'sync.bundle');
      // Without a known tip in the agent, send the whole history of the branch.
      const ref = await pool.bundle(agent.repoUrl, latest.commit, file, current || undefined);
      await this.engine.putHostFile(agent.containerId, file, DELTA_PATH);
      const fetched = await this.exec.git(id, ['fetch', '-q', DELTA_PATH, `+${ref}:${tracking}`], options);
      await this.engine.exec(agent.containerId, ['rm', '-f', DELTA_PATH]);
      if (fetched.exitCode !== 0) {
        throw new SyncFailedError(`could not sync agent '${id}': ${gitFailure(fetched.stderr)}`);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    this.log.info(`synced agent '${id}': origin/${latest.branch} ${current.slice(0, 12) || '(none)'} → ${latest.commit.slice(0, 12)}`);
    return { branch: latest.branch, from: current, to: latest.commit };
  }

  private async toAgent(container: { containerId: string; labels: Record<string, string> | undefined; image: string }, facts: ContainerFacts): Promise<Agent | undefined> {
    const { containerId, labels, image } = container;
    const identity = identityFromLabels(labels);
    if (!identity) {
      return undefined;
    }
    const stateFile = facts.running ? await this.states.read(containerId) : this.states.known(containerId);
    // Only an agent without a state file can be half-made; asking after its creator costs a signal 0.
    const creatorGone = !stateFile && creationAbandoned(labels, liveness());
    const { state, reason } = agentState({ ...facts, creatorGone }, stateFile);
    return {
      ...identity,
      baseBranch: stateFile?.baseBranch || identity.baseBranch,
      baseCommit: stateFile?.baseCommit ?? identity.baseCommit,
      image: identity.image || image,
      containerId,
      state,
      reason,
      setupError: stateFile?.setupError,
      limits: limitsFromLabels(labels),
    };
  }
}

function limitsFromLabels(labels: Record<string, string> | undefined): AgentLimits | undefined {
  const [memoryBytes, cpus, pids] = [LIMIT_LABEL.memory, LIMIT_LABEL.cpus, LIMIT_LABEL.pids].map((key) => Number(labels?.[key]));
  return memoryBytes && cpus && pids ? { memoryBytes, cpus, pids } : undefined;
}

/** A stopped container's status as an inspect tells it, in the words a listing starts with (`Exited (137)`). */
function statusOf(state: { readonly Status: string; readonly ExitCode: number }): string {
  return state.Status === 'exited' ? `Exited (${state.ExitCode})` : state.Status.charAt(0).toUpperCase() + state.Status.slice(1);
}
