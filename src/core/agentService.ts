import type Docker from 'dockerode';
import { throwIfAborted } from './base/abort';
import { type Agent, agentState, type AgentIdentity, type AgentStateFile, type ContainerFacts, identityFromLabels, LABEL, parseStateFile, STATE_FILE, WORKSPACE } from './agent';
import { agentContainerSpec } from './docker/containerSpec';
import { statusCode, type Engine } from './docker/engine';
import type { ExecResult } from './docker/exec';
import { AgentExistsError, AgentNotFoundError, AgentNotRunningError, CancelledError, CreateFailedError, describeCause, InvalidInputError, isCancellation } from './errors';
import { cloneArgs } from './git/cloneArgs';
import { CloneProgressParser } from './git/cloneProgress';
import { identityConfig, readHostIdentity, type GitIdentity } from './git/hostGit';
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
}

export type CreatePhase = 'checking' | 'image' | 'container' | 'cloning' | 'checkout' | 'ready';

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
}

export interface GitRunOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
}

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
}

/**
 * Creates, lists, runs git in and removes agents. Holds no state of its own
 * that matters: every agent is rebuilt from its container, so two processes
 * (VS Code and the CLI) see the same agents.
 */
export class AgentService {
  private readonly engine: Engine;
  private readonly log: Logger;
  private readonly creating = new Set<string>();
  /** State files of ready agents, by container id: they do not change while it runs. */
  private readonly readyStates = new Map<string, AgentStateFile>();

  constructor(private readonly options: AgentServiceOptions) {
    this.engine = options.engine;
    this.log = options.log ?? silentLogger;
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
      const [gitIdentity] = await Promise.all([
        this.options.identity ?? readHostIdentity(this.options.identityFrom),
        this.engine.ensureImage(image, (p) => report('image', p.message, p.percent), signal),
      ]);
      throwIfAborted(signal, `creation of agent '${id}'`);

      const identity: AgentIdentity = { id, repoUrl, baseBranch, sessionBranch: sessionBranchFor(id), createdAt: new Date() };
      report('container', 'starting the container');
      const containerId = await this.createContainer(identity, image, request.env);
      try {
        await this.engine.startContainer(containerId);
        const state = await this.cloneInto(containerId, identity, gitIdentity, report, signal);
        await this.engine.putFile(containerId, STATE_FILE, JSON.stringify(state, null, 2) + '\n');
        this.readyStates.set(containerId, state);
      } catch (error) {
        this.log.warn(`creation of agent '${id}' failed, removing its container: ${describeCause(error)}`);
        await this.engine.removeContainer(containerId).catch((removeError: unknown) => this.log.error(`could not remove container ${containerId}: ${describeCause(removeError)}`));
        throw error;
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
    await this.engine.removeContainer(info.Id);
    this.readyStates.delete(info.Id);
    this.log.info(`removed agent '${id}'`);
  }

  async stop(id: string): Promise<void> {
    const info = await this.inspectAgent(id);
    await this.engine.stopContainer(info.Id);
    this.readyStates.delete(info.Id);
  }

  async start(id: string): Promise<void> {
    const info = await this.inspectAgent(id);
    await this.engine.startContainer(info.Id);
  }

  /** Runs `git <args>` in the agent's clone. The words are passed as they are: no shell. */
  async git(id: string, args: readonly string[], options: GitRunOptions = {}): Promise<ExecResult> {
    const info = await this.inspectAgent(id);
    if (!info.State.Running) {
      throw new AgentNotRunningError(id, 'stopped');
    }
    return this.engine.exec(info.Id, ['git', ...args], { workdir: WORKSPACE, ...options });
  }

  private async inspectAgent(id: string): Promise<Docker.ContainerInspectInfo> {
    const info = await this.engine.inspectContainer(containerNameFor(id));
    if (!info || info.Config.Labels?.[LABEL.agent] !== id) {
      throw new AgentNotFoundError(id);
    }
    return info;
  }

  private async createContainer(identity: AgentIdentity, image: string, env: CreateRequest['env']): Promise<string> {
    try {
      return await this.engine.createContainer(agentContainerSpec({ identity, image, env, network: this.options.network }));
    } catch (error) {
      if (statusCode(error) === 409) {
        throw new AgentExistsError(identity.id);
      }
      if (statusCode(error) === 404 && this.options.network) {
        throw new InvalidInputError(`Docker network '${this.options.network}' does not exist: create it or change the gitiso.network setting`);
      }
      throw error;
    }
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
      ['git', ...cloneArgs({ url: identity.repoUrl, directory: WORKSPACE, branch: identity.baseBranch || undefined, config: identityConfig(gitIdentity) })],
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
      baseCommit: stateFile?.baseCommit,
      image,
      containerId,
      state,
      reason,
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

/** git's own reason, from its last "fatal:" or "error:" line. */
export function gitFailure(stderr: string): string {
  const lines = stderr.split(/[\r\n]+/).map((line) => line.trim()).filter(Boolean);
  const reason = [...lines].reverse().find((line) => /^(fatal|error):/.test(line)) ?? lines.at(-1) ?? 'git failed without a message';
  return redactCredentials(reason.replace(/^(fatal|error):\s*/, ''));
}
