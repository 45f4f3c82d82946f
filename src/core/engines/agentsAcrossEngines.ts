import type { Agent } from '../agent';
import type { AgentsModel, EngineStatus } from '../agentsModel';
import { Emitter, type Disposable } from '../base/event';
import type { CreateProgress } from '../create/createRequest';
import { silentLogger, type Logger } from '../logger';

/** One engine's agents as a window follows them. */
export interface EngineAgents {
  readonly name: string;
  readonly model: AgentsModel;
}

/**
 * The agents of every engine as one list (engine by engine, in the order the
 * engines are named), and which engine each is on, so every operation goes to
 * the agent's own engine. An id is one agent: when two engines have an agent
 * of the same id (made outside this window), the later engine's is left out
 * and the log says so, rather than letting a command on one reach the other.
 */
export class AgentsAcrossEngines implements Disposable {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  private shown: readonly Agent[] = [];
  private readonly engineById = new Map<string, string>();
  private readonly subscriptions: Disposable[];
  private readonly warned = new Set<string>();

  constructor(readonly engines: readonly EngineAgents[], private readonly log: Logger = silentLogger) {
    this.subscriptions = engines.map(({ model }) => model.onDidChange(() => this.update()));
    this.update();
  }

  /** Every engine's agents that can be acted on (an engine that does not answer has none here; see `unreachableOn`). */
  get agents(): readonly Agent[] {
    return this.shown;
  }

  /** The engine an agent is on (one being created here included); undefined for an id no engine has. */
  engineOf(agentId: string): string | undefined {
    return this.engineById.get(agentId);
  }

  /** One engine's agents, as `agents` shows them. */
  agentsOn(name: string): readonly Agent[] {
    return this.shown.filter((agent) => this.engineById.get(agent.id) === name);
  }

  /** What an engine that does not answer had when it last did. */
  unreachableOn(name: string): readonly Agent[] {
    return this.modelOf(name)?.unreachableAgents ?? [];
  }

  statusOf(name: string): EngineStatus {
    return this.modelOf(name)?.engineStatus ?? { kind: 'unknown' };
  }

  /** Connected while any engine answers; unavailable (the first engine's reason) when none does. */
  get engineStatus(): EngineStatus {
    const statuses = this.engines.map((engine) => engine.model.engineStatus);
    if (statuses.some((status) => status.kind === 'connected')) {
      return { kind: 'connected' };
    }
    return statuses.find((status) => status.kind === 'unavailable' && statuses.every((other) => other.kind === 'unavailable')) ?? { kind: 'unknown' };
  }

  /** When every engine first answered (or refused): the window's first complete tree. */
  get listedAt(): number | undefined {
    const times = this.engines.map((engine) => engine.model.listedAt);
    return times.every((time) => time !== undefined) ? Math.max(...(times as number[])) : undefined;
  }

  progressOf(agentId: string): CreateProgress | undefined {
    const name = this.engineById.get(agentId);
    return name === undefined ? undefined : this.modelOf(name)?.progressOf(agentId);
  }

  /** Lists every engine's agents again; resolves when all have answered or failed. */
  async refresh(): Promise<void> {
    await Promise.all(this.engines.map((engine) => engine.model.refresh()));
  }

  private modelOf(name: string): AgentsModel | undefined {
    return this.engines.find((engine) => engine.name === name)?.model;
  }

  private update(): void {
    const shown: Agent[] = [];
    this.engineById.clear();
    for (const { name, model } of this.engines) {
      for (const agent of model.agents) {
        const first = this.engineById.get(agent.id);
        if (first === undefined) {
          this.engineById.set(agent.id, name);
          shown.push(agent);
        } else if (!this.warned.has(`${agent.id} ${name}`)) {
          this.warned.add(`${agent.id} ${name}`);
          this.log.warn(`agent '${agent.id}' is on the engines '${first}' and '${name}': only the one on '${first}' is shown; remove or rename the other with the docker CLI`);
        }
      }
    }
    this.shown = shown;
    this.changed.fire();
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.changed.dispose();
  }
}
