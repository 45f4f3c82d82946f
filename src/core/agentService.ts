import type Docker from 'dockerode';
import { throwIfAborted } from './base/abort';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Agent, agentState, type AgentIdentity, type AgentStateFile, type ContainerFacts, type CreateStrategy, identityFromLabels, LABEL, parseStateFile, STATE_FILE, WORKSPACE } from './agent';
import { agentContainerSpec, LIMIT_LABEL } from './docker/containerSpec';
import { BUDGET_FILE, budgetJson, checkAdmission, DEFAULT_LIMITS, validateLimits, type AgentLimits } from './limits/agentLimits';
import { statusCode, type Engine } from './docker/engine';
import type { ExecOptions, ExecResult } from './docker/exec';
import { ExecChannel } from './docker/execChannel';
import { AgentExistsError, AgentNotFoundError, AgentNotRunningError, CancelledError, CreateFailedError, describeCause, InvalidInputError, isCancellation } from './errors';
import { cloneArgs } from './git/cloneArgs';
import { CloneProgressParser } from './git/cloneProgress';
import { gitFailure } from './git/gitFailure';
import { identityConfig, readHostIdentity, type GitIdentity } from './git/hostGit';
import { ObjectPool, type ResolvedBase } from './git/objectPool';
import { bootCommand, setupCommand, startAndAwaitBoot, type SetupArgs } from './snapshot/agentBoot';
import { SnapshotStore, type Snapshot } from './snapshot/snapshotStore';
import { parseLsTree, parseSetupFile, resolveSetup, SETUP_FILE, type RepoSetup, type SetupSettings } from './setup/repoSetup';
import { runSetupCommand } from './setup/setupCommand';
import { defaultStorageDir } from './storage';
import { redactCredentials, silentLogger, type Logger } from './logger';
import { containerNameFor, sessionBranchFor, validateAgentId, validateBranchName, validateRepoUrl } from './names';

export interface CreateRequest {
  readonly id: string;
  readonly repoUrl: string;
  /** Branch to start from; the remote's default when absent. */
  readonly baseBranch?: string;
  readonly image?: string;
  /** Plain settings for the container; never credentials. */
  readonly env?: Readonly<Record<string, string>>;
  /** Overrides the service's strategy for this agent. */
  readonly strategy?: CreateStrategy;
  /** The host folder the setup's files to copy (such as `.env`) are taken from; nothing is copied when absent. */
  readonly copyFrom?: string;
  /** Overrides the service's limits for this agent. */
  readonly limits?: Partial<AgentLimits>;
}

/** Where a delta bundle goes in an agent's container (the setup removes it). */
const DELTA_PATH = '/tmp/gitiso-delta.bundle';

interface Delta {
  readonly file: string;
  readonly ref: string;
}

function limitsFromLabels(labels: Record<string, string> | undefined): AgentLimits | undefined {
  const [memoryBytes, cpus, pids] = [LIMIT_LABEL.memory, LIMIT_LABEL.cpus, LIMIT_LABEL.pids].map((key) => Number(labels?.[key]));
  return memoryBytes && cpus && pids ? { memoryBytes, cpus, pids } : undefined;
}

function isMissingImage(error: unknown): boolean {
  return statusCode(error) === 404 && /no such image/i.test((error as Error).message);
}

function readyState(baseBranch: string, baseCommit: string, setupError?: string): AgentStateFile {
  return { state: 'ready', baseBranch, baseCommit, readyAt: new Date().toISOString(), ...(setupError ? { setupError } : {}) };
}

/** Where the pool strategy mounts the repository's mirror, read-only. */
const POOL_MOUNT = '/gitiso/pool';

export type CreatePhase = 'checking' | 'image' | 'fetching' | 'snapshot' | 'container' | 'cloning' | 'checkout' | 'setup' | 'ready';

/** The outcome of one agent of a createMany: the agent, or why it failed (nothing of it is left). */
export type CreateOutcome = { readonly id: string; readonly agent: Agent } | { readonly id: string; readonly error: Error };

export interface CreateProgress {
  readonly agentId: string;
  readonly phase: CreatePhase;
  readonly message: string;
  /** Percentage within the phase, where git or the engine tells it. */
  readonly percent?: number;
}

export interface OperationHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: CreateProgress) => void;
  /** Create even when the agents' memory limits do not fit the engine's memory. */
  readonly force?: boolean;
}

export type GitRunOptions = Pick<ExecOptions, 'signal' | 'timeoutMs' | 'onStdout' | 'onStderr'>;

export interface AgentServiceOptions {
  readonly engine: Engine;
  readonly log?: Logger;
  /** Image used when a request names none. */
  readonly defaultImage: string;
  /** Docker network agents join; the engine's default bridge when absent. */
  readonly network?: string;
  /** Where to read the host's git identity from (a workspace folder); the user's global config when absent. */
  readonly identityFrom?: string;
  /** Overrides the host's git identity (tests, scripts). */
  readonly identity?: GitIdentity;
  /** How agents get their clone; `snapshot` when absent. */
  readonly strategy?: CreateStrategy;
  /** For the remote strategy: shallow (`--depth`) and partial (`--filter`) clones. */
  readonly cloneDepth?: number;
  readonly cloneFilter?: string;
  /** Where the host keeps the object pool; defaultStorageDir() when absent. */
  readonly storageDir?: string;
  /** The user's setup settings; a repository's `.gitiso.json` comes first. */
  readonly setup?: SetupSettings;
  /** Every agent's limits; DEFAULT_LIMITS fill what is not given. */
  readonly limits?: Partial<AgentLimits>;
}

/**
 * The pool strategy's clone: --shared borrows the mounted pool's objects
 * (--local would hard-link, which fails across the mount), then the agent looks
 * like any other: origin is the real URL, the base branch exists locally.
 * $1 session branch, $2 user.name, $3 user.email, $4 origin URL, $5 base branch, $6 base commit.
 */
const POOL_CLONE_SCRIPT = `set -e
git clone -q --shared --no-checkout "${POOL_MOUNT}" "${WORKSPACE}"
cd "${WORKSPACE}"
git remote set-url origin "$4"
git checkout -q -B "$5" "$6"
git config "branch.$5.remote" origin
git config "branch.$5.merge" "refs/heads/$5"
git checkout -q -b "$1"
if [ -n "$2" ]; then git config user.name "$2"; fi
if [ -n "$3" ]; then git config user.email "$3"; fi`;


/**
 * Creates, lists, runs git in and removes agents. Holds no state of its own
 * that matters: every agent is rebuilt from its container, so two processes
 * (VS Code and the CLI) see the same agents.
 */
export class AgentService {
  readonly engine: Engine;
  private readonly log: Logger;
  private readonly creating = new Set<string>();
  /** State files of ready agents, by container id: they do not change while it runs. */
  private readonly readyStates = new Map<string, AgentStateFile>();
  /** One long-lived exec channel per agent id, opened on its first git command. */
  private readonly channels = new Map<string, ExecChannel>();

  readonly pool: ObjectPool;
  readonly snapshots: SnapshotStore;

  constructor(private readonly options: AgentServiceOptions) {
    this.engine = options.engine;
    this.log = options.log ?? silentLogger;
    this.pool = new ObjectPool(options.storageDir ?? defaultStorageDir(), this.log);
    this.snapshots = new SnapshotStore(this.engine, this.pool, this.log, options.network);
  }

  /**
   * Creates several agents, at most `concurrency` at a time. One snapshot
   * build and one pool fetch serve the whole burst; a failure of one agent
   * neither stops nor undoes the others and is reported by its id.
   */
  async createMany(requests: readonly CreateRequest[], hooks: OperationHooks & { concurrency?: number } = {}): Promise<CreateOutcome[]> {
    // The whole burst is admitted (or refused) at once, before anything is made.
    await this.admit(requests, hooks.force);
    hooks = { ...hooks, force: true };
    const outcomes: CreateOutcome[] = new Array(requests.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index] as CreateRequest;
        try {
          outcomes[index] = { id: request.id, agent: await this.create(request, hooks) };
        } catch (error) {
          outcomes[index] = { id: request.id, error: error instanceof Error ? error : new Error(String(error)) };
        }
      }
    };
    const concurrency = Math.max(1, Math.min(hooks.concurrency ?? 4, requests.length));
    await Promise.all(Array.from({ length: concurrency }, worker));
    return outcomes;
  }

  async create(request: CreateRequest, hooks: OperationHooks = {}): Promise<Agent> {
    const id = validateAgentId(request.id);
    const repoUrl = validateRepoUrl(request.repoUrl);
    const baseBranch = request.baseBranch ? validateBranchName(request.baseBranch) : '';
    const image = request.image || this.options.defaultImage;
    const { signal } = hooks;
    const report = (phase: CreatePhase, message: string, percent?: number): void => hooks.onProgress?.({ agentId: id, phase, message, percent });

    if (this.creating.has(id)) {
      throw new AgentExistsError(id);
    }
    this.creating.add(id);
    try {
      report('checking', 'checking the engine');
      await this.engine.ping();
      if (await this.engine.inspectContainer(containerNameFor(id))) {
        throw new AgentExistsError(id);
      }
      const limits = await this.limitsFor(request);
      if (!hooks.force) {
        await this.admit([request]);
      }
      const [gitIdentity] = await Promise.all([
        this.options.identity ?? readHostIdentity(this.options.identityFrom),
        this.engine.ensureImage(image, (p) => report('image', p.message, p.percent), signal),
      ]);
      throwIfAborted(signal, `creation of agent '${id}'`);

      const strategy = request.strategy ?? this.options.strategy ?? 'snapshot';
      const { base, latest } = await this.startingPoint(strategy, repoUrl, baseBranch, report);
      throwIfAborted(signal, `creation of agent '${id}'`);
      // The setup as the base commit has it; the remote strategy learns it from its clone.
      const setup = base.commit ? await this.setupAt(repoUrl, base.commit) : undefined;
      const snapshot = strategy === 'snapshot' ? await this.snapshotFor(repoUrl, image, base as ResolvedBase, setup as RepoSetup, report) : undefined;
      throwIfAborted(signal, `creation of agent '${id}'`);

      const identity: AgentIdentity = {
        id,
        repoUrl,
        baseBranch: base.branch ?? '',
        baseCommit: base.commit,
        sessionBranch: sessionBranchFor(id),
        image,
        strategy,
        createdAt: new Date(),
      };
      report('container', 'starting the container');
      if (snapshot) {
        try {
          await this.startFromSnapshot(identity, snapshot, gitIdentity, request, limits, setup as RepoSetup, report, signal, latest);
        } catch (error) {
          if (!isMissingImage(error)) {
            throw error;
          }
          // Pruned between finding and using it (another process): pick again, once.
          const again = await this.snapshotFor(repoUrl, image, base as ResolvedBase, setup as RepoSetup, report);
          await this.startFromSnapshot(identity, again, gitIdentity, request, limits, setup as RepoSetup, report, signal, latest);
        }
      } else {
        const binds = strategy === 'pool' ? [`${this.pool.pathFor(repoUrl)}:${POOL_MOUNT}:ro`] : undefined;
        const containerId = await this.createContainer(identity, image, request.env, { binds, limits });
        await this.removeOnFailure(id, containerId, async () => {
          await this.engine.startContainer(containerId);
          const cloned = strategy === 'pool' ? await this.cloneFromPool(containerId, identity, gitIdentity, report, signal) : await this.cloneInto(containerId, identity, gitIdentity, report, signal);
          const agentSetup = setup ?? (await this.setupIn(containerId));
          await this.copyFiles(containerId, agentSetup, request.copyFrom);
          const setupError = agentSetup.install ? await this.installIn(containerId, agentSetup.install, report, signal) : undefined;
          const state = { ...cloned, ...(setupError ? { setupError } : {}) };
          await this.engine.putFile(containerId, STATE_FILE, JSON.stringify(state, null, 2) + '\n');
          this.readyStates.set(containerId, state);
        });
      }
      report('ready', `agent '${id}' is ready on ${identity.sessionBranch}`);
      this.log.info(`created agent '${id}' from ${redactCredentials(repoUrl)}`);
      return this.get(id);
    } finally {
      this.creating.delete(id);
    }
  }

  /** Every agent on the engine, rebuilt from its container. */
  async list(): Promise<Agent[]> {
    const containers = await this.engine.listContainers(LABEL.agent);
    const agents = await Promise.all(
      containers.map((info) => {
        const running = info.State === 'running';
        return this.toAgent(info.Id, info.Labels, info.Image, { running, status: info.Status });
      }),
    );
    return agents.filter((agent): agent is Agent => agent !== undefined).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<Agent> {
    const info = await this.inspectAgent(id);
    const agent = await this.toAgent(info.Id, info.Config.Labels, info.Config.Image, {
      running: info.State.Running,
      status: info.State.Status,
      oomKilled: info.State.OOMKilled,
    });
    if (!agent) {
      throw new AgentNotFoundError(id);
    }
    return agent;
  }

  /** Removes the agent's container and everything it owns. */
  async remove(id: string): Promise<void> {
    const info = await this.inspectAgent(id);
    this.closeChannel(id);
    await this.engine.removeContainer(info.Id);
    this.readyStates.delete(info.Id);
    this.log.info(`removed agent '${id}'`);
    this.snapshots.pruneInBackground();
  }

  async stop(id: string): Promise<void> {
    const info = await this.inspectAgent(id);
    this.closeChannel(id);
    await this.engine.stopContainer(info.Id);
    this.readyStates.delete(info.Id);
  }

  async start(id: string): Promise<void> {
    const info = await this.inspectAgent(id);
    await this.engine.startContainer(info.Id);
  }

  /**
   * Changes a running agent's limits in place (the engine updates its cgroup)
   * and rewrites its budget file; its GITISO_* variables keep the values it was
   * created with, since a container's environment cannot change.
   */
  async updateLimits(id: string, change: Partial<AgentLimits>): Promise<AgentLimits> {
    const info = await this.inspectAgent(id);
    const current: AgentLimits = {
      memoryBytes: info.HostConfig.Memory || DEFAULT_LIMITS.memoryBytes,
      cpus: info.HostConfig.NanoCpus ? info.HostConfig.NanoCpus / 1e9 : DEFAULT_LIMITS.cpus,
      pids: info.HostConfig.PidsLimit || DEFAULT_LIMITS.pids,
    };
    const limits = await this.limitsFor({ limits: { ...current, ...change } });
    await this.engine.docker.getContainer(info.Id).update({ Memory: limits.memoryBytes, MemorySwap: limits.memoryBytes, NanoCpus: Math.round(limits.cpus * 1e9), PidsLimit: limits.pids });
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
  async sync(id: string, options: { signal?: AbortSignal } = {}): Promise<{ branch: string; from: string; to: string }> {
    const agent = await this.get(id);
    if (agent.state !== 'ready' && agent.state !== 'error') {
      throw new AgentNotRunningError(id, agent.state);
    }
    await this.pool.sync(agent.repoUrl);
    const latest = await this.pool.resolve(agent.repoUrl, agent.baseBranch || undefined);
    const tracking = `refs/remotes/origin/${latest.branch}`;
    const current = (await this.git(id, ['rev-parse', '--verify', '--quiet', tracking], options)).stdout.trim();
    if (current === latest.commit) {
      return { branch: latest.branch, from: current, to: current };
    }
    const scratch = mkdtempSync(join(tmpdir(), 'gitiso-sync-'));
    try {
      const file = join(scratch, 'sync.bundle');
      // Without a known tip in the agent, send the whole history of the branch.
      const ref = await this.pool.bundle(agent.repoUrl, latest.commit, file, current || undefined);
      await this.engine.putHostFile(agent.containerId, file, DELTA_PATH);
      const fetched = await this.git(id, ['fetch', '-q', DELTA_PATH, `+${ref}:${tracking}`], options);
      await this.engine.exec(agent.containerId, ['rm', '-f', DELTA_PATH]);
      if (fetched.exitCode !== 0) {
        throw new CreateFailedError(`could not sync agent '${id}': ${gitFailure(fetched.stderr)}`);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    this.log.info(`synced agent '${id}': origin/${latest.branch} ${current.slice(0, 12) || '(none)'} → ${latest.commit.slice(0, 12)}`);
    return { branch: latest.branch, from: current, to: latest.commit };
  }

  /**
   * Runs `git <args>` in the agent's clone. The words are passed as they are:
   * no shell. Goes through the agent's long-lived exec channel (a command costs
   * what git costs), falling back to a plain exec when the channel is gone.
   */
  async git(id: string, args: readonly string[], options: GitRunOptions = {}): Promise<ExecResult> {
    return this.run(id, ['git', ...args], options);
  }

  /** Runs a command in the agent's /workspace through its exec channel (see git()). */
  async run(id: string, argv: readonly string[], options: GitRunOptions = {}): Promise<ExecResult> {
    const channel = this.channels.get(id);
    if (channel?.isOpen) {
      try {
        return await channel.run(argv, { workdir: WORKSPACE, ...options });
      } catch (error) {
        if (channel.isOpen) {
          throw error;
        }
        // The channel died (agent stopped or removed): fall through to a fresh look.
      }
    }
    const info = await this.inspectAgent(id);
    if (!info.State.Running) {
      throw new AgentNotRunningError(id, 'stopped');
    }
    const opened = await ExecChannel.open(this.engine.docker, info.Id).catch((error: unknown) => {
      this.log.debug(`no exec channel for '${id}': ${describeCause(error)}`);
      return undefined;
    });
    if (opened) {
      this.channels.set(id, opened);
      return opened.run(argv, { workdir: WORKSPACE, ...options });
    }
    return this.engine.exec(info.Id, argv, { workdir: WORKSPACE, ...options });
  }

  private closeChannel(id: string): void {
    this.channels.get(id)?.close();
    this.channels.delete(id);
  }

  /** Closes the exec channels this service opened. */
  dispose(): void {
    for (const channel of this.channels.values()) {
      channel.close();
    }
    this.channels.clear();
  }

  private async inspectAgent(id: string): Promise<Docker.ContainerInspectInfo> {
    const info = await this.engine.inspectContainer(containerNameFor(id));
    if (!info || info.Config.Labels?.[LABEL.agent] !== id) {
      throw new AgentNotFoundError(id);
    }
    return info;
  }

  private async createContainer(identity: AgentIdentity, image: string, env: CreateRequest['env'], extra: { binds?: string[]; cmd?: string[]; limits: AgentLimits }): Promise<string> {
    try {
      return await this.engine.createContainer(agentContainerSpec({ identity, image, env, network: this.options.network, ...extra }));
    } catch (error) {
      if (statusCode(error) === 409) {
        throw new AgentExistsError(identity.id);
      }
      if (statusCode(error) === 404 && this.options.network && !isMissingImage(error)) {
        throw new InvalidInputError(`Docker network '${this.options.network}' does not exist: create it or change the gitiso.network setting`);
      }
      throw error;
    }
  }

  /** The request's limits over the service's over the defaults; CPUs no more than the engine has. */
  private async limitsFor(request: Pick<CreateRequest, 'limits'>): Promise<AgentLimits> {
    const limits = validateLimits({ ...this.options.limits, ...request.limits });
    const { cpus } = await this.engine.capacity();
    return cpus > 0 && limits.cpus > cpus ? { ...limits, cpus } : limits;
  }

  /** Admission control: refuses agents whose memory limits, with those of running agents, exceed the engine's memory (AdmissionError). */
  async admit(requests: readonly Pick<CreateRequest, 'limits'>[], force = false): Promise<void> {
    if (force || requests.length === 0) {
      return;
    }
    const [capacity, containers, limits] = await Promise.all([this.engine.capacity(), this.engine.listContainers(LABEL.agent), Promise.all(requests.map((r) => this.limitsFor(r)))]);
    // The engine's own figure, not the label: limits may have changed since creation (updateLimits).
    const running = await Promise.all(containers.filter((c) => c.State === 'running').map((c) => this.engine.inspectContainer(c.Id)));
    const reservedBytes = running.reduce((sum, info) => sum + (info?.HostConfig.Memory ?? 0), 0);
    // One figure per burst: the largest limit asked for (they are almost always the same).
    const memoryBytes = Math.max(...limits.map((l) => l.memoryBytes));
    checkAdmission({ count: requests.length, memoryBytes, reservedBytes, totalBytes: capacity.memoryBytes });
  }

  /**
   * The base an agent starts from. The remote strategy learns it from its own
   * clone; the pool strategy from a fetched pool. The snapshot strategy starts
   * from what the pool already knows while the pool fetches (`latest`): the
   * agent catches up on what the fetch brings before it is ready.
   */
  private async startingPoint(
    strategy: CreateStrategy,
    repoUrl: string,
    baseBranch: string,
    report: (phase: CreatePhase, message: string) => void,
  ): Promise<{ base: Partial<ResolvedBase>; latest?: Promise<ResolvedBase> }> {
    if (strategy === 'remote') {
      return { base: { branch: baseBranch || undefined } };
    }
    const fetched = this.resolveBase(repoUrl, baseBranch, report);
    if (strategy === 'pool') {
      return { base: await fetched };
    }
    fetched.catch(() => undefined); // awaited through latestBase; must not go unobserved meanwhile
    const known = await this.pool.resolveKnown(repoUrl, baseBranch || undefined);
    return known ? { base: known, latest: this.latestBase(known, fetched) } : { base: await fetched };
  }

  /** Brings the host's mirror up to date and reads the base branch's commit from it. */
  private async resolveBase(repoUrl: string, baseBranch: string, report: (phase: CreatePhase, message: string) => void): Promise<ResolvedBase> {
    report('fetching', `fetching ${redactCredentials(repoUrl)} into the pool`);
    await this.pool.sync(repoUrl);
    return this.pool.resolve(repoUrl, baseBranch || undefined);
  }

  /**
   * What the fetch says the base is (when it moved past what the pool knew,
   * branchFromSnapshot fetches the difference). If the fetch fails, the agent starts from the pool's copy, with a warning:
   * work goes on offline.
   */
  private async latestBase(known: ResolvedBase, fetched: Promise<ResolvedBase>): Promise<ResolvedBase> {
    try {
      return await fetched;
    } catch (error) {
      this.log.warn(`${describeCause(error)}; starting from the pool's copy at ${known.commit.slice(0, 12)}`);
      return known;
    }
  }

  /**
   * The snapshot to start from: the one of this commit; else an older one of
   * the same branch history (the agent fetches only the new commits, and the
   * new snapshot is built in the background); else one built now.
   */
  private async snapshotFor(repoUrl: string, image: string, base: ResolvedBase, setup: RepoSetup, report: (phase: CreatePhase, message: string) => void): Promise<Snapshot> {
    const exact = await this.snapshots.find(repoUrl, image, base.commit, setup.key);
    if (exact) {
      return exact;
    }
    const older = await this.snapshots.findAncestor(repoUrl, image, base.commit, setup.key);
    if (older) {
      this.snapshots.refreshInBackground(repoUrl, image, base, setup);
      return older;
    }
    const install = setup.install ? ` and running '${setup.install}'` : '';
    report('snapshot', `building the snapshot of ${base.branch} at ${base.commit.slice(0, 12)}${install} (once per commit)`);
    return this.snapshots.ensure(repoUrl, image, base, setup);
  }

  /** The repository's setup at a commit, read from the pool. */
  private async setupAt(repoUrl: string, commit: string): Promise<RepoSetup> {
    const [file, rootFiles] = await Promise.all([this.pool.readFile(repoUrl, commit, SETUP_FILE), this.pool.rootFiles(repoUrl, commit)]);
    return resolveSetup(parseSetupFile(file), this.options.setup ?? {}, rootFiles);
  }

  /** The repository's setup as a clone inside a container has it. */
  private async setupIn(containerId: string): Promise<RepoSetup> {
    const [file, tree] = await Promise.all([
      this.engine.readFile(containerId, `${WORKSPACE}/${SETUP_FILE}`),
      this.engine.exec(containerId, ['git', 'ls-tree', 'HEAD'], { workdir: WORKSPACE }),
    ]);
    return resolveSetup(parseSetupFile(file?.toString('utf8')), this.options.setup ?? {}, parseLsTree(tree.stdout));
  }

  /** Runs the install in an agent (strategies without a snapshot); returns why it failed, if it did. */
  private async installIn(containerId: string, install: string, report: (phase: CreatePhase, message: string) => void, signal?: AbortSignal): Promise<string | undefined> {
    report('setup', `running '${install}'`);
    const failure = await runSetupCommand(this.engine, containerId, install, this.log, signal);
    if (failure) {
      this.log.warn(`setup failed: ${failure}`);
    }
    return failure;
  }

  /** Copies the setup's files (such as `.env`) from the host folder into the agent; a file the host lacks is skipped with a warning. */
  private async copyFiles(containerId: string, setup: RepoSetup, from: string | undefined): Promise<void> {
    if (!from || setup.copy.length === 0) {
      return;
    }
    for (const path of setup.copy) {
      const source = join(from, path);
      if (!existsSync(source) || !statSync(source).isFile()) {
        this.log.warn(`setup: '${path}' is not a file in ${from}; not copied`);
        continue;
      }
      await this.engine.putFile(containerId, `${WORKSPACE}/${path}`, readFileSync(source), statSync(source).mode & 0o777);
    }
  }

  /**
   * Creates the agent's container from the snapshot with a command that sets
   * it up as it starts (no exec: see agentBoot.ts), and waits for it. When the
   * snapshot is older than the base, the commits it lacks go in first as a
   * bundle; when the pool's fetch (running meanwhile) finds the base moved on,
   * the agent catches up before it is called ready.
   */
  private async startFromSnapshot(
    identity: AgentIdentity,
    snapshot: Snapshot,
    gitIdentity: GitIdentity,
    request: CreateRequest,
    limits: AgentLimits,
    setup: RepoSetup,
    report: (phase: CreatePhase, message: string) => void,
    signal: AbortSignal | undefined,
    latest?: Promise<ResolvedBase>,
  ): Promise<void> {
    const baseCommit = identity.baseCommit ?? snapshot.baseCommit;
    const args = (commit: string, bundle?: Delta): SetupArgs => ({
      sessionBranch: identity.sessionBranch,
      userName: gitIdentity.name ?? '',
      userEmail: gitIdentity.email ?? '',
      bundlePath: bundle ? DELTA_PATH : '',
      bundleRef: bundle?.ref ?? '',
      baseBranch: identity.baseBranch,
      baseCommit: commit,
      stateJson: JSON.stringify(readyState(identity.baseBranch, commit, snapshot.setupError)),
    });
    const delta = baseCommit === snapshot.baseCommit ? undefined : await this.delta(identity, snapshot.baseCommit, baseCommit, report);
    try {
      const containerId = await this.createContainer(identity, snapshot.image, request.env, { cmd: bootCommand(args(baseCommit, delta)), limits });
      await this.removeOnFailure(identity.id, containerId, async () => {
        if (delta) {
          await this.engine.putHostFile(containerId, delta.file, DELTA_PATH);
        }
        report('checkout', `creating branch ${identity.sessionBranch}`);
        await startAndAwaitBoot(this.engine, containerId, signal);
        let commit = baseCommit;
        const moved = await latest;
        if (moved && moved.commit !== baseCommit) {
          const catchUp = await this.delta(identity, baseCommit, moved.commit, report);
          try {
            await this.engine.putHostFile(containerId, catchUp.file, DELTA_PATH);
            const setup = await this.engine.exec(containerId, setupCommand(args(moved.commit, catchUp)), { workdir: WORKSPACE, signal });
            if (setup.exitCode !== 0) {
              throw new CreateFailedError(`could not bring ${identity.sessionBranch} to ${moved.commit.slice(0, 12)}: ${gitFailure(setup.stderr)}`);
            }
            commit = moved.commit;
          } finally {
            rmSync(dirname(catchUp.file), { recursive: true, force: true });
          }
        }
        await this.copyFiles(containerId, setup, request.copyFrom);
        this.readyStates.set(containerId, readyState(identity.baseBranch, commit, snapshot.setupError));
        // Other windows and CLIs learn of the agent's readiness from the engine's events.
        await this.engine.announce(containerId);
      });
    } finally {
      if (delta) {
        rmSync(dirname(delta.file), { recursive: true, force: true });
      }
    }
  }

  /** A bundle of the commits from `from` to `to`, from the pool, in a temporary folder of its own; a new snapshot of `to` is started in the background. */
  private async delta(identity: AgentIdentity, from: string, to: string, report: (phase: CreatePhase, message: string) => void): Promise<Delta> {
    // The next snapshot has the setup `to` has (its key is how agents will look for it).
    void this.setupAt(identity.repoUrl, to).then(
      (setup) => this.snapshots.refreshInBackground(identity.repoUrl, identity.image, { branch: identity.baseBranch, commit: to }, setup),
      (error: unknown) => this.log.warn(`no background snapshot of ${to.slice(0, 12)}: ${describeCause(error)}`),
    );
    report('fetching', `fetching the commits since the snapshot (${from.slice(0, 12)}..${to.slice(0, 12)})`);
    const file = join(mkdtempSync(join(tmpdir(), 'gitiso-delta-')), 'delta.bundle');
    return { file, ref: await this.pool.bundle(identity.repoUrl, to, file, from) };
  }

  /** Runs the steps after a container exists; if one fails or is cancelled, the container goes. */
  private async removeOnFailure(id: string, containerId: string, steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (error) {
      this.log.warn(`creation of agent '${id}' failed, removing its container: ${describeCause(error)}`);
      await this.engine.removeContainer(containerId).catch((removeError: unknown) => this.log.error(`could not remove container ${containerId}: ${describeCause(removeError)}`));
      throw isCancellation(error) ? new CancelledError(`creation of agent '${id}'`) : error;
    }
  }

  private async cloneFromPool(
    containerId: string,
    identity: AgentIdentity,
    gitIdentity: GitIdentity,
    report: (phase: CreatePhase, message: string) => void,
    signal: AbortSignal | undefined,
  ): Promise<AgentStateFile> {
    report('cloning', 'cloning from the pool');
    const baseCommit = identity.baseCommit ?? '';
    const clone = await this.engine.exec(
      containerId,
      ['sh', '-c', POOL_CLONE_SCRIPT, 'gitiso-pool-clone', identity.sessionBranch, gitIdentity.name ?? '', gitIdentity.email ?? '', identity.repoUrl, identity.baseBranch, baseCommit],
      { workdir: WORKSPACE, signal },
    );
    if (clone.exitCode !== 0) {
      throw new CreateFailedError(`could not clone from the pool (the pool strategy needs a local engine): ${gitFailure(clone.stderr)}`);
    }
    return { state: 'ready', baseBranch: identity.baseBranch, baseCommit, readyAt: new Date().toISOString() };
  }

  /** Clones the repository inside the container and branches off the session branch. */
  private async cloneInto(
    containerId: string,
    identity: AgentIdentity,
    gitIdentity: GitIdentity,
    report: (phase: CreatePhase, message: string, percent?: number) => void,
    signal: AbortSignal | undefined,
  ): Promise<AgentStateFile> {
    const what = `creation of agent '${identity.id}'`;
    report('cloning', `cloning ${redactCredentials(identity.repoUrl)}`);
    const parser = new CloneProgressParser();
    const clone = await this.engine.exec(
      containerId,
      ['git', ...cloneArgs({ url: identity.repoUrl, directory: WORKSPACE, branch: identity.baseBranch || undefined, config: identityConfig(gitIdentity), depth: this.options.cloneDepth, filter: this.options.cloneFilter })],
      {
        workdir: WORKSPACE,
        signal,
        onStderr: (chunk) => {
          for (const step of parser.push(chunk.toString())) {
            report('cloning', step.phase, step.percent);
          }
        },
      },
    ).catch((error: unknown) => {
      throw isCancellation(error) ? new CancelledError(what) : error;
    });
    if (clone.exitCode !== 0) {
      throw new CreateFailedError(`could not clone ${redactCredentials(identity.repoUrl)}${identity.baseBranch ? ` at '${identity.baseBranch}'` : ''}: ${gitFailure(clone.stderr)}`);
    }

    report('checkout', `creating branch ${identity.sessionBranch}`);
    // One exec answers both: the commit, then the branch the clone checked out.
    const head = await this.engine.exec(containerId, ['git', 'rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'], { workdir: WORKSPACE, signal });
    const [baseCommit = '', resolvedBase = ''] = head.stdout.trim().split('\n');
    const checkout = await this.engine.exec(containerId, ['git', 'checkout', '-q', '-b', identity.sessionBranch], { workdir: WORKSPACE, signal });
    if (head.exitCode !== 0 || checkout.exitCode !== 0) {
      throw new CreateFailedError(`could not create branch ${identity.sessionBranch}: ${gitFailure(head.stderr + checkout.stderr)}`);
    }
    return { state: 'ready', baseBranch: identity.baseBranch || resolvedBase, baseCommit, readyAt: new Date().toISOString() };
  }

  private async toAgent(containerId: string, labels: Record<string, string> | undefined, image: string, facts: ContainerFacts): Promise<Agent | undefined> {
    const identity = identityFromLabels(labels);
    if (!identity) {
      return undefined;
    }
    const stateFile = facts.running ? await this.stateFileOf(containerId) : this.readyStates.get(containerId);
    const { state, reason } = agentState(facts, stateFile);
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

  private async stateFileOf(containerId: string): Promise<AgentStateFile | undefined> {
    const cached = this.readyStates.get(containerId);
    if (cached) {
      return cached;
    }
    const content = await this.engine.readFile(containerId, STATE_FILE).catch(() => undefined);
    const state = parseStateFile(content?.toString('utf8'));
    if (state?.state === 'ready') {
      this.readyStates.set(containerId, state);
    }
    return state;
  }
}
