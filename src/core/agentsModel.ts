import type { Agent } from './agent';
import type { AgentService } from './agentService';
import type { AgentCreator } from './create/agentCreator';
import type { CreateHooks, CreateManyHooks, CreateOutcome, CreateProgress, CreateRequest } from './create/createRequest';
import { Emitter, type Disposable } from './base/event';
import { type ContainerChange, ContainerEventsWatcher } from './docker/events';
import type { Engine } from './docker/engine';
import { CreateFailedError, describeCause, EngineUnavailableError } from './errors';
import { LABEL } from './agent';
import { mergeCreating, sortAgents } from './agentOrder';
import { sessionBranchFor } from './names';
import { silentLogger, type Logger } from './logger';

/** More containers than this in one burst of events: one listing of all is cheaper than an inspect each. */
const MAX_INSPECTS = 16;

export type EngineStatus = { readonly kind: 'unknown' } | { readonly kind: 'connected' } | { readonly kind: 'unavailable'; readonly message: string };

/**
 * The agents as the UI shows them: the engine's list, kept current from the
 * engine's events (an event's container is inspected alone, a destroyed one
 * dropped without asking; a missed event or a large burst lists all again), plus agents this process is creating right now (shown at
 * once, before their container exists, with their latest progress).
 */
export class AgentsModel implements Disposable {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  private engineAgents: Agent[] = [];
  /** The agents last listed before the engine stopped answering: shown as unreachable, beside engines that answer. */
  private lastKnown: readonly Agent[] = [];
  private readonly pending = new Map<string, Agent>();
  private readonly progress = new Map<string, CreateProgress>();
  /**
   * When the creates this process ran started, by agent id: they keep their place in the list while and after they run.
   * Kept for the model's life (a list read before a create settled may lack its agent); a create again of the same id sets it anew.
   */
  private readonly startedAt = new Map<string, number>();
  private status: EngineStatus = { kind: 'unknown' };
  /** When (performance.now()) the engine first answered a listing, or refused it. */
  private firstAnswerAt: number | undefined;
  /** The reads to do next: a listing of all, or these containers (by id, with their last event's action). */
  private listAll = false;
  private readonly toInspect = new Map<string, string>();
  private working: Promise<void> | undefined;
  private readonly watcher: ContainerEventsWatcher;
  private readonly agentService: Pick<AgentService, 'list' | 'agentOf'>;
  private readonly creator: Pick<AgentCreator, 'createMany'>;
  private readonly log: Logger;

  constructor(deps: { readonly agents: Pick<AgentService, 'list' | 'agentOf'>; readonly creator: Pick<AgentCreator, 'createMany'>; readonly engine: Engine; readonly log?: Logger }) {
    this.agentService = deps.agents;
    this.creator = deps.creator;
    this.log = deps.log ?? silentLogger;
    this.watcher = new ContainerEventsWatcher(deps.engine, { label: LABEL.agent, log: this.log });
    this.watcher.onDidChange((change) => this.follow(change));
    this.watcher.onDidChangeConnection((connected) => {
      if (!connected) {
        void this.refresh();
      }
    });
  }

  /**
   * Starts following the engine. The first listing comes once the events stream is connected (or could not be):
   * one listing, and no event missed between it and the stream.
   */
  start(): void {
    this.watcher.start();
  }

  /** The agents, oldest first (see sortAgents); one being created here shows as creating until its create settles. */
  get agents(): readonly Agent[] {
    const known = new Set(this.engineAgents.map((agent) => agent.id));
    const listed = this.engineAgents.map((agent) => (this.pending.has(agent.id) ? mergeCreating(agent) : agent));
    return sortAgents([...listed, ...[...this.pending.values()].filter((agent) => !known.has(agent.id))], this.startedAt);
  }

  get engineStatus(): EngineStatus {
    return this.status;
  }

  /** While the engine does not answer: the agents it had when it last did (nothing can be done with them until it is back). */
  get unreachableAgents(): readonly Agent[] {
    return this.status.kind === 'unavailable' ? this.lastKnown : [];
  }

  /** When (performance.now()) the engine first answered this model's listing (the benchmark reads it). */
  get listedAt(): number | undefined {
    return this.firstAnswerAt;
  }

  progressOf(id: string): CreateProgress | undefined {
    return this.progress.get(id);
  }

  /** Lists every agent again. Calls during a read coalesce into one more; resolves once it is done. */
  refresh(): Promise<void> {
    this.listAll = true;
    return this.work();
  }

  /** Engine events: only their containers are read again (a burst of many, or a missed event: all of them). */
  private follow(change: ContainerChange): void {
    if (change === undefined) {
      void this.refresh();
      return;
    }
    for (const event of change) {
      this.toInspect.set(event.containerId, event.action);
    }
    this.showDied(change);
    if (this.toInspect.size > MAX_INSPECTS || this.status.kind !== 'connected') {
      this.listAll = true;
    }
    void this.work();
  }

  /**
   * A container that died is not running, which the event says (the engine's word, not the agent's): its row shows
   * it at once. The inspect that follows waits for the engine's clean-up of the container (its network, its mounts),
   * a tenth of a second or more, and brings the rest (an out-of-memory kill).
   */
  private showDied(change: NonNullable<ContainerChange>): void {
    let shown = false;
    for (const event of change.filter((e) => e.action === 'die')) {
      this.engineAgents = this.engineAgents.map((agent) => {
        if (agent.containerId !== event.containerId || agent.state === 'stopped') {
          return agent;
        }
        shown = true;
        return { ...agent, state: 'stopped', reason: event.exitCode === undefined ? 'Exited' : `Exited (${event.exitCode})` };
      });
    }
    if (shown) {
      this.changed.fire();
    }
  }

  /** One read at a time, so an older answer never overwrites a newer one; resolves once what was asked is read. */
  private work(): Promise<void> {
    this.working ??= this.drain().finally(() => (this.working = undefined));
    // Asked while the last read was ending (its loop done, its promise not yet settled): read again after it.
    return this.working.then(() => (this.listAll || this.toInspect.size > 0 ? this.work() : undefined));
  }

  private async drain(): Promise<void> {
    while (this.listAll || this.toInspect.size > 0) {
      if (this.listAll) {
        this.listAll = false;
        this.toInspect.clear();
        await this.load();
      } else {
        const containers = new Map(this.toInspect);
        this.toInspect.clear();
        await this.inspect(containers);
      }
    }
  }

  /** Reads only these containers (a destroyed one is dropped without asking); a failure lists all instead. */
  private async inspect(containers: ReadonlyMap<string, string>): Promise<void> {
    let read: { readonly containerId: string; readonly agent: Agent | undefined }[];
    try {
      read = await Promise.all(
        [...containers].map(async ([containerId, action]) => ({ containerId, agent: action === 'destroy' ? undefined : await this.agentService.agentOf(containerId) })),
      );
    } catch (error) {
      this.log.debug(`could not read the containers of engine events (${describeCause(error)}): listing all`);
      this.listAll = true;
      return;
    }
    for (const { containerId, agent } of read) {
      // A container's agent, or another container of the same agent id (made again): the one read replaces both.
      this.engineAgents = this.engineAgents.filter((known) => known.containerId !== containerId && known.id !== agent?.id);
      if (agent) {
        this.engineAgents.push(agent);
      }
    }
    this.changed.fire();
  }

  /** Creates one agent, shown at once in the creating state; throws what its creation threw. */
  async create(request: CreateRequest, hooks: CreateHooks = {}): Promise<Agent> {
    const [outcome] = await this.createMany([request], hooks);
    if (!outcome || 'error' in outcome) {
      throw outcome?.error ?? new CreateFailedError(`agent '${request.id}' was not created: see the log`);
    }
    return outcome.agent;
  }

  /**
   * Creates agents through the creator's one batch loop, each shown at once in
   * the creating state with its latest progress. An admission refusal of the
   * whole burst is thrown; each agent's own failure is in its outcome.
   */
  async createMany(requests: readonly CreateRequest[], hooks: CreateManyHooks = {}): Promise<CreateOutcome[]> {
    const started = Date.now();
    for (const request of requests) {
      this.pending.set(request.id, placeholder(request));
      this.startedAt.set(request.id, started);
    }
    this.changed.fire();
    try {
      return await this.creator.createMany(requests, {
        ...hooks,
        onProgress: (step) => {
          this.progress.set(step.agentId, step);
          hooks.onProgress?.(step);
          this.changed.fire();
        },
        onSettled: (outcome) => {
          // Its row now comes from the engine (or goes, when it failed).
          this.pending.delete(outcome.id);
          this.progress.delete(outcome.id);
          // Until the refresh lands, the engine's last word may be the container before it started.
          this.engineAgents = 'agent' in outcome ? [...this.engineAgents.filter((agent) => agent.id !== outcome.id), outcome.agent] : this.engineAgents.filter((agent) => agent.id !== outcome.id);
          hooks.onSettled?.(outcome);
          if ('agent' in outcome) {
            this.follow([{ containerId: outcome.agent.containerId, action: 'settled' }]);
          }
        },
      });
    } finally {
      for (const request of requests) {
        this.pending.delete(request.id);
        this.progress.delete(request.id);
      }
      await this.refresh();
    }
  }

  private async load(): Promise<void> {
    try {
      this.engineAgents = await this.agentService.list();
      this.lastKnown = [];
      this.status = { kind: 'connected' };
    } catch (error) {
      if (this.engineAgents.length > 0) {
        this.lastKnown = this.engineAgents.filter((agent) => agent.state !== 'creating');
      }
      this.engineAgents = [];
      const message = error instanceof EngineUnavailableError ? error.message : describeCause(error);
      if (this.status.kind !== 'unavailable') {
        this.log.warn(`cannot list agents: ${message}`);
      }
      this.status = { kind: 'unavailable', message };
    }
    this.firstAnswerAt ??= performance.now();
    this.changed.fire();
  }

  dispose(): void {
    this.watcher.dispose();
    this.changed.dispose();
  }
}

function placeholder(request: CreateRequest): Agent {
  return {
    id: request.id,
    repoUrl: request.repoUrl,
    baseBranch: request.baseBranch ?? '',
    sessionBranch: sessionBranchFor(request.id),
    image: request.image ?? '',
    strategy: request.strategy ?? 'snapshot',
    containerId: '',
    createdAt: new Date(),
    gitisoVersion: '',
    state: 'creating',
  };
}
