import * as vscode from 'vscode';
import { isRunning } from '../core/agent';
import { AgentsModel } from '../core/agentsModel';
import { UsageWatch } from '../core/apiProxy/usageWatch';
import { Emitter } from '../core/base/event';
import { Engine } from '../core/docker/engine';
import { describeCause } from '../core/errors';
import { createCore, type GitisoCore } from '../core/gitisoCore';
import type { SetupConsent } from '../core/setup/setupProposal';
import { StatsSampler } from '../core/stats/statsSampler';
import { affectsEngine, affectsService, readSettings } from './config';
import { showErrorWithSettings } from './showError';

/**
 * The window's composition: the core (src/core/gitisoCore.ts, shared with the
 * CLI) built from the settings, plus what only a window has (the agents
 * model, the stats sampler); built again when one of their settings changes.
 * Only a change of engine (dockerHost) closes the window's forwards; any other
 * keeps them, with the exec channels, in the new core.
 * Its events outlive any one core, and are separate so that a stats sample
 * (every 2 s) does not redo what only a change of agents needs.
 */
export class Gitiso implements vscode.Disposable {
  private readonly agentsChanged = new Emitter<void>();
  private readonly forwardsChanged = new Emitter<string>();
  private readonly statsChanged = new Emitter<void>();
  private readonly usageChanged = new Emitter<readonly string[]>();
  /** The agents, the engine's status or a create's progress changed; also after a reconnect. */
  readonly onDidChangeAgents = this.agentsChanged.event;
  /** With the agent's id, when one of its forwards opened or closed; also after a reconnect (the new core has none). */
  readonly onDidChangeForwards = this.forwardsChanged.event;
  /** The sampler read the running agents; also after a reconnect (the new sampler has no figures). */
  readonly onDidChangeStats = this.statsChanged.event;
  /** With the ids of the agents whose kept API usage changed (whichever process served their proxy). */
  readonly onDidChangeUsage = this.usageChanged.event;
  private current!: { core: GitisoCore; model: AgentsModel; stats: StatsSampler; usage: UsageWatch; subscriptions: { dispose(): void }[] };
  private readonly configListener: vscode.Disposable;

  /**
   * `setupConsent`: what a repository's .gitiso.json may ask (setupConsent.ts); `afterFirstTree`: when start-up work
   * that can wait (the sweep for leftovers) may begin, so it does not hold up the first tree.
   */
  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly setupConsent: SetupConsent,
    private readonly afterFirstTree: Promise<void> = Promise.resolve(),
  ) {
    this.connect();
    this.configListener = vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsEngine(event)) {
        this.log.info('gitiso engine setting changed: reconnecting');
        const forwarded = new Set(this.ports.forwards().map((forward) => forward.agentId));
        const shown = this.model.agents.map((agent) => agent.id);
        this.teardown();
        this.connect();
        // The new core starts afresh: its own agents, no forwards, no figures.
        this.agentsChanged.fire();
        forwarded.forEach((agentId) => this.forwardsChanged.fire(agentId));
        this.statsChanged.fire();
        this.usageChanged.fire(shown);
      } else if (affectsService(event)) {
        this.log.info('gitiso settings changed: rebuilding the service; forwards stay open');
        const shown = this.model.agents.map((agent) => agent.id);
        this.rebuild();
        this.agentsChanged.fire();
        this.statsChanged.fire();
        // Another storage folder keeps other usage.
        this.usageChanged.fire(shown);
      }
    });
  }

  get engine(): GitisoCore['engine'] {
    return this.current.core.engine;
  }

  /** The network agents join. */
  get network(): GitisoCore['network'] {
    return this.current.core.network;
  }

  /** The agents that exist: list, get, stop, remove, sync, limits. */
  get agents(): GitisoCore['agents'] {
    return this.current.core.agents;
  }

  /** Commands and git in agents. */
  get exec(): GitisoCore['exec'] {
    return this.current.core.exec;
  }

  get admission(): GitisoCore['admission'] {
    return this.current.core.admission;
  }

  /** The host's object pool (one bare mirror per repository). */
  get pool(): GitisoCore['pool'] {
    return this.current.core.pool;
  }

  get snapshots(): GitisoCore['snapshots'] {
    return this.current.core.snapshots;
  }

  /** What crashes left behind. */
  get doctor(): GitisoCore['doctor'] {
    return this.current.core.doctor;
  }

  get model(): AgentsModel {
    return this.current.model;
  }

  /** This window's forwards of agents' ports to 127.0.0.1. */
  get ports(): GitisoCore['ports'] {
    return this.current.core.ports;
  }

  get devServers(): GitisoCore['devServers'] {
    return this.current.core.devServers;
  }

  /** Each agent's coding agent, in its tmux session. */
  get sessions(): GitisoCore['sessions'] {
    return this.current.core.sessions;
  }

  /** An agent's work brought to the host: review, push, and into the workspace. */
  get roundTrip(): GitisoCore['roundTrip'] {
    return this.current.core.roundTrip;
  }

  /** An agent's work into a repository of the user's: fetch, check out, merge, apply. */
  get workspaceGit(): GitisoCore['workspaceGit'] {
    return this.current.core.workspaceGit;
  }

  /** The running agents' CPU, memory and disk; the window turns it on while someone can see them. */
  get stats(): StatsSampler {
    return this.current.stats;
  }

  /** Each agent's API usage through the key proxy, as kept in gitiso's storage (`usage` follows it). */
  get apiUsage(): GitisoCore['apiUsage'] {
    return this.current.core.apiUsage;
  }

  /** Each agent's kept API usage, read again when the file changes. */
  get usage(): UsageWatch {
    return this.current.usage;
  }

  /** Builds the core from the settings; on the engine, exec channels and forwards of `previous` when given. */
  private connect(previous?: GitisoCore): void {
    const settings = readSettings();
    const engine = previous?.engine ?? this.newEngine(settings.dockerHost);
    const core = createCore({
      keep: previous && { exec: previous.exec, ports: previous.ports },
      engine,
      log: this.log,
      defaultImage: settings.image,
      network: settings.network || undefined,
      identityFrom: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      strategy: settings.createStrategy,
      cloneDepth: settings.cloneDepth || undefined,
      cloneFilter: settings.cloneFilter || undefined,
      storageDir: settings.storagePath || undefined,
      setup: settings.setup,
      limits: settings.limits,
      setupConsent: this.setupConsent,
      installTimeoutMs: settings.installTimeoutSeconds * 1000,
    });
    const model = new AgentsModel({ agents: core.agents, creator: core.creator, engine, log: this.log });
    const stats = new StatsSampler({ exec: core.exec, engine, runningAgents: () => model.agents.filter(isRunning), log: this.log });
    const usage = new UsageWatch(core.apiUsage);
    const subscriptions = [
      model.onDidChange(() => this.agentsChanged.fire()),
      core.ports.onDidChange((agentId) => this.forwardsChanged.fire(agentId)),
      stats.onDidSample(() => this.statsChanged.fire()),
      usage.onDidChange((agentIds) => this.usageChanged.fire(agentIds)),
    ];
    this.current = { core, model, stats, usage, subscriptions };
    model.start();
    core.ports.start();
    // A crashed window or CLI may have left builders and half-made agents behind: the certain ones go, once the tree shows.
    void this.afterFirstTree.then(async () => (this.current?.core === core ? core.doctor.cleanObvious() : [])).then((removed) => {
      if (removed.length > 0) {
        this.log.info(`removed ${removed.length} leftover(s) of crashed gitiso processes: ${removed.map((l) => `${l.kind} ${l.name}`).join(', ')}`);
        void model.refresh();
      }
    });
    this.log.info(`using the Docker engine at ${engine.address}`);
  }

  private newEngine(dockerHost: string): Engine {
    try {
      return new Engine(dockerHost || undefined, this.log);
    } catch (error) {
      // A malformed address: say so, and use the default engine rather than none.
      const message = `gitiso.dockerHost: ${describeCause(error)}; using the default engine`;
      this.log.error(message);
      void showErrorWithSettings(message);
      return new Engine(undefined, this.log);
    }
  }

  /** A new core, model and sampler from the settings, on the same engine: the window's forwards stay open. */
  private rebuild(): void {
    const { core, model, stats, usage, subscriptions } = this.current;
    subscriptions.forEach((subscription) => subscription.dispose());
    stats.dispose();
    usage.dispose();
    model.dispose();
    // Not core.dispose(): its exec channels and forwards, all it would close, go on in the new core.
    this.connect(core);
  }

  private teardown(): void {
    this.current.subscriptions.forEach((subscription) => subscription.dispose());
    this.current.stats.dispose();
    this.current.usage.dispose();
    this.current.model.dispose();
    this.current.core.dispose();
  }

  dispose(): void {
    this.configListener.dispose();
    this.teardown();
    this.agentsChanged.dispose();
    this.forwardsChanged.dispose();
    this.statsChanged.dispose();
    this.usageChanged.dispose();
  }
}
