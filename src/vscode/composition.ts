import * as vscode from 'vscode';
import { isRunning } from '../core/agent';
import { AgentsModel } from '../core/agentsModel';
import { UsageWatch } from '../core/apiProxy/usageWatch';
import { Emitter } from '../core/base/event';
import { Engine } from '../core/docker/engine';
import { AgentsAcrossEngines } from '../core/engines/agentsAcrossEngines';
import { readDockerContexts } from '../core/engines/dockerContexts';
import { engineEndpoints, LOCAL_ENGINE, type EngineEndpoint } from '../core/engines/engineEndpoint';
import { StatsAcrossEngines } from '../core/engines/statsAcrossEngines';
import { AgentNotFoundError, describeCause } from '../core/errors';
import { createCore, type GitisoCore } from '../core/gitisoCore';
import type { Forward } from '../core/ports/agentPorts';
import type { SetupConsent } from '../core/setup/setupProposal';
import { StatsSampler } from '../core/stats/statsSampler';
import { affectsEngine, affectsService, readSettings, type Settings } from './config';
import { showErrorWithSettings } from './showError';

/** One engine as the window uses it: its core (shared with the CLI), its agents as followed here, its sampler. */
export interface EngineParts {
  readonly name: string;
  readonly endpoint: EngineEndpoint;
  readonly core: GitisoCore;
  readonly model: AgentsModel;
  readonly stats: StatsSampler;
}

/**
 * The window's composition: for each engine (the local one, `gitiso.engines`,
 * the user's Docker contexts) a core (src/core/gitisoCore.ts, shared with the
 * CLI) built from the settings, the agents model and the stats sampler; and
 * the agents of all engines as one list. Every operation on an agent goes to
 * its own engine's core (`on`). Built again when one of their settings
 * changes: only a change of engines closes the window's forwards; any other
 * keeps them, with the exec channels, in the new cores.
 * Its events outlive any one core, and are separate so that a stats sample
 * (every 2 s) does not redo what only a change of agents needs.
 */
export class Gitiso implements vscode.Disposable {
  private readonly agentsChanged = new Emitter<void>();
  private readonly forwardsChanged = new Emitter<string>();
  private readonly statsChanged = new Emitter<void>();
  private readonly usageChanged = new Emitter<readonly string[]>();
  /** The agents, an engine's status or a create's progress changed; also after a reconnect. */
  readonly onDidChangeAgents = this.agentsChanged.event;
  /** With the agent's id, when one of its forwards opened or closed; also after a reconnect (the new core has none). */
  readonly onDidChangeForwards = this.forwardsChanged.event;
  /** The samplers read the running agents; also after a reconnect (the new samplers have no figures). */
  readonly onDidChangeStats = this.statsChanged.event;
  /** With the ids of the agents whose kept API usage changed (whichever process served their proxy). */
  readonly onDidChangeUsage = this.usageChanged.event;
  private current!: {
    engines: readonly EngineParts[];
    model: AgentsAcrossEngines;
    stats: StatsAcrossEngines;
    usage: UsageWatch;
    subscriptions: { dispose(): void }[];
  };
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
        this.log.info('gitiso engine settings changed: reconnecting');
        const forwarded = new Set(this.forwards().map((forward) => forward.agentId));
        const shown = this.model.agents.map((agent) => agent.id);
        this.teardown();
        this.connect();
        // The new cores start afresh: their own agents, no forwards, no figures.
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

  /** Every engine, the local one first. */
  get engines(): readonly EngineParts[] {
    return this.current.engines;
  }

  /** The local engine (`gitiso.dockerHost`, else DOCKER_HOST, else the local socket): what is not about one agent uses it. */
  get local(): EngineParts {
    return this.current.engines[0] as EngineParts;
  }

  /** An engine by the name the tree and settings give it. */
  engineNamed(name: string): EngineParts | undefined {
    return this.current.engines.find((engine) => engine.name === name);
  }

  /** The core of the engine an agent is on: every operation on an agent goes through it. Throws AgentNotFoundError for an id no engine has. */
  on(agentId: string): GitisoCore {
    return this.partsOf(agentId).core;
  }

  /** The engine an agent is on. */
  partsOf(agentId: string): EngineParts {
    const name = this.current.model.engineOf(agentId);
    const parts = name === undefined ? (this.current.engines.length === 1 ? this.local : undefined) : this.engineNamed(name);
    if (!parts) {
      throw new AgentNotFoundError(agentId);
    }
    return parts;
  }

  /** The agents of every engine, as one list. */
  get model(): AgentsAcrossEngines {
    return this.current.model;
  }

  /** This window's forwards of agents' ports to 127.0.0.1, on every engine (one agent's when given). */
  forwards(agentId?: string): Forward[] {
    return this.current.engines.flatMap((engine) => engine.core.ports.forwards(agentId));
  }

  /** The running agents' CPU, memory and disk on every engine; the window turns it on while someone can see them. */
  get stats(): StatsAcrossEngines {
    return this.current.stats;
  }

  /** The host's object pool (one bare mirror per repository), shared by every engine. */
  get pool(): GitisoCore['pool'] {
    return this.local.core.pool;
  }

  /** Each agent's API usage through the key proxy, as kept in gitiso's storage (`usage` follows it). */
  get apiUsage(): GitisoCore['apiUsage'] {
    return this.local.core.apiUsage;
  }

  /** Each agent's kept API usage, read again when the file changes. */
  get usage(): UsageWatch {
    return this.current.usage;
  }

  /** Builds a core per engine from the settings; on an engine `previous` had, its exec channels and forwards. */
  private connect(previous?: readonly EngineParts[]): void {
    const settings = readSettings();
    const endpoints = previous?.map((parts) => parts.endpoint) ?? this.endpoints(settings);
    const engines: EngineParts[] = [];
    for (const endpoint of endpoints) {
      const kept = previous?.find((parts) => parts.name === endpoint.name)?.core;
      const engine = kept?.engine ?? this.newEngine(endpoint, settings);
      if (!engine) {
        continue;
      }
      const core = createCore({
        keep: kept && { exec: kept.exec, ports: kept.ports },
        pool: engines[0]?.core.pool,
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
      engines.push({ name: endpoint.name, endpoint, core, model, stats });
      this.log.info(`engine '${endpoint.name}': the Docker engine at ${engine.address}`);
    }
    const model = new AgentsAcrossEngines(engines, this.log);
    const stats = new StatsAcrossEngines(engines.map((parts) => parts.stats));
    const usage = new UsageWatch((engines[0] as EngineParts).core.apiUsage);
    const subscriptions = [
      model.onDidChange(() => this.agentsChanged.fire()),
      ...engines.map((parts) => parts.core.ports.onDidChange((agentId) => this.forwardsChanged.fire(agentId))),
      stats.onDidSample(() => this.statsChanged.fire()),
      usage.onDidChange((agentIds) => this.usageChanged.fire(agentIds)),
    ];
    this.current = { engines, model, stats, usage, subscriptions };
    for (const parts of engines) {
      parts.model.start();
      parts.core.ports.start();
      // A crashed window or CLI may have left builders and half-made agents behind: the certain ones go, once the tree shows.
      void this.afterFirstTree.then(async () => (this.current?.engines.includes(parts) ? parts.core.doctor.cleanObvious() : [])).then(
        (removed) => {
          if (removed.length > 0) {
            this.log.info(`engine '${parts.name}': removed ${removed.length} leftover(s) of crashed gitiso processes: ${removed.map((l) => `${l.kind} ${l.name}`).join(', ')}`);
            void parts.model.refresh();
          }
        },
        (error: unknown) => this.log.debug(`engine '${parts.name}': no sweep for leftovers (${describeCause(error)})`),
      );
    }
  }

  /** The local engine, the setting's and the Docker contexts; what is wrong with an entry is said once, and the rest used. */
  private endpoints(settings: Settings): readonly EngineEndpoint[] {
    const { endpoints, problems } = engineEndpoints({
      dockerHost: settings.dockerHost,
      setting: settings.engines,
      contexts: settings.dockerContexts ? readDockerContexts() : [],
    });
    if (problems.length > 0) {
      const message = `${problems.join('; ')}: those engines are left out`;
      this.log.error(message);
      void showErrorWithSettings(message);
    }
    return endpoints;
  }

  private newEngine(endpoint: EngineEndpoint, settings: Settings): Engine | undefined {
    try {
      return new Engine({ host: endpoint.host || undefined, tls: endpoint.tls, sshConfigFile: settings.sshConfigFile || undefined }, this.log);
    } catch (error) {
      if (endpoint.name !== LOCAL_ENGINE) {
        const message = `engine '${endpoint.name}' (${endpoint.from === 'context' ? 'a Docker context' : 'gitiso.engines'}): ${describeCause(error)}; it is left out`;
        this.log.error(message);
        void showErrorWithSettings(message);
        return undefined;
      }
      // A malformed address: say so, and use the default engine rather than none.
      const message = `gitiso.dockerHost: ${describeCause(error)}; using the default engine`;
      this.log.error(message);
      void showErrorWithSettings(message);
      return new Engine(undefined, this.log);
    }
  }

  /** New cores, models and samplers from the settings, on the same engines: the window's forwards stay open. */
  private rebuild(): void {
    const previous = this.current.engines;
    this.disposeViews();
    // Not core.dispose(): its exec channels and forwards, all it would close, go on in the new cores.
    this.connect(previous);
  }

  private disposeViews(): void {
    const { engines, model, stats, usage, subscriptions } = this.current;
    subscriptions.forEach((subscription) => subscription.dispose());
    stats.dispose();
    usage.dispose();
    model.dispose();
    for (const parts of engines) {
      parts.stats.dispose();
      parts.model.dispose();
    }
  }

  private teardown(): void {
    this.disposeViews();
    for (const parts of this.current.engines) {
      parts.core.dispose();
      parts.core.engine.dispose();
    }
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
