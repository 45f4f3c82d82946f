import type { Agent } from './agent';
import type { AgentService, CreateProgress, CreateRequest, OperationHooks } from './agentService';
import { Emitter, type Disposable } from './base/event';
import { ContainerEventsWatcher } from './docker/events';
import type { Engine } from './docker/engine';
import { describeCause, EngineUnavailableError } from './errors';
import { LABEL } from './agent';
import { sessionBranchFor } from './names';
import { silentLogger, type Logger } from './logger';

export type EngineStatus = { readonly kind: 'unknown' } | { readonly kind: 'connected' } | { readonly kind: 'unavailable'; readonly message: string };

/**
 * The agents as the UI shows them: the engine's list, kept current from the
 * engine's events, plus agents this process is creating right now (shown at
 * once, before their container exists, with their latest progress).
 */
export class AgentsModel implements Disposable {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  private engineAgents: Agent[] = [];
  private readonly pending = new Map<string, Agent>();
  private readonly progress = new Map<string, CreateProgress>();
  private status: EngineStatus = { kind: 'unknown' };
  private inFlight: Promise<void> | undefined;
  private again = false;
  private readonly watcher: ContainerEventsWatcher;
  private readonly log: Logger;

  constructor(private readonly service: AgentService, engine: Engine, log?: Logger) {
    this.log = log ?? silentLogger;
    this.watcher = new ContainerEventsWatcher(engine, { label: LABEL.agent, log: this.log });
    this.watcher.onDidChange(() => void this.refresh());
    this.watcher.onDidChangeConnection((connected) => {
      if (!connected) {
        void this.refresh();
      }
    });
  }

  /** Starts following the engine (the first refresh comes with the events connection). */
  start(): void {
    this.watcher.start();
    void this.refresh();
  }

  get agents(): readonly Agent[] {
    const known = new Set(this.engineAgents.map((agent) => agent.id));
    return [...this.engineAgents, ...[...this.pending.values()].filter((agent) => !known.has(agent.id))];
  }

  get engineStatus(): EngineStatus {
    return this.status;
  }

  progressOf(id: string): CreateProgress | undefined {
    return this.progress.get(id);
  }

  /** Re-reads the engine. Calls during a refresh coalesce into one more. */
  refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.load().finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.inFlight;
  }

  /** Creates an agent through the service, showing it at once in the creating state. */
  async create(request: CreateRequest, hooks: OperationHooks = {}): Promise<Agent> {
    this.pending.set(request.id, placeholder(request));
    this.changed.fire();
    try {
      return await this.service.create(request, {
        signal: hooks.signal,
        force: hooks.force,
        onProgress: (step) => {
          this.progress.set(request.id, step);
          hooks.onProgress?.(step);
          this.changed.fire();
        },
      });
    } finally {
      this.pending.delete(request.id);
      this.progress.delete(request.id);
      await this.refresh();
    }
  }

  private async load(): Promise<void> {
    try {
      this.engineAgents = await this.service.list();
      this.status = { kind: 'connected' };
    } catch (error) {
      this.engineAgents = [];
      const message = error instanceof EngineUnavailableError ? error.message : describeCause(error);
      if (this.status.kind !== 'unavailable') {
        this.log.warn(`cannot list agents: ${message}`);
      }
      this.status = { kind: 'unavailable', message };
    }
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
