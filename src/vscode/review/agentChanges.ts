import { Emitter, type Disposable } from '../../core/base/event';
import type { GitisoCore } from '../../core/gitisoCore';
import type { AgentWork, ChangedFile } from '../../core/roundTrip/roundTripTypes';

/** An agent's work on the host and what it changed against its base. */
export interface AgentChanges {
  readonly work: AgentWork;
  readonly files: readonly ChangedFile[];
  /** The agent's signature taken just before the work was brought home: a later one that differs means newer work. */
  readonly signature: string;
}

type RoundTrip = GitisoCore['roundTrip'];

/**
 * The window's last look at each agent's changes: what the Changes nodes show
 * and what Review Changes opened. Loads are shared while one runs; a reload
 * happens only when the agent's signature (its branch and working tree)
 * moved, so polling an unchanged agent costs one small exec.
 */
export class AgentChangesCache implements Disposable {
  private readonly entries = new Map<string, AgentChanges>();
  private readonly loading = new Map<string, Promise<AgentChanges>>();
  private readonly changed = new Emitter<string>();
  /** With the agent's id, when its changes were loaded anew. */
  readonly onDidChange = this.changed.event;

  /** `roundTrip` is read on each use: the window's core can be rebuilt. */
  constructor(private readonly roundTrip: (agentId: string) => RoundTrip) {}

  get(agentId: string): AgentChanges | undefined {
    return this.entries.get(agentId);
  }

  /** Brings the agent's work home now and lists its changes (a load already running is shared). */
  load(agentId: string, signal?: AbortSignal): Promise<AgentChanges> {
    const running = this.loading.get(agentId);
    if (running) {
      return running;
    }
    const load = this.loadNow(agentId, signal).finally(() => this.loading.delete(agentId));
    this.loading.set(agentId, load);
    return load;
  }

  /** Reloads when the agent's signature moved since the last load; true when it did. */
  async refreshIfChanged(agentId: string, signal?: AbortSignal): Promise<boolean> {
    const known = this.entries.get(agentId);
    if (!known) {
      return false;
    }
    const signature = await this.roundTrip(agentId).signature(agentId, { signal });
    if (signature === known.signature) {
      return false;
    }
    await this.load(agentId, signal);
    return true;
  }

  /** Drops what is known of agents that are gone. */
  forgetAllBut(agentIds: ReadonlySet<string>): void {
    for (const id of [...this.entries.keys()].filter((id) => !agentIds.has(id))) {
      this.entries.delete(id);
    }
  }

  private async loadNow(agentId: string, signal: AbortSignal | undefined): Promise<AgentChanges> {
    const roundTrip = this.roundTrip(agentId);
    const signature = await roundTrip.signature(agentId, { signal });
    const work = await roundTrip.bringHome(agentId, { signal });
    const files = await roundTrip.changes(work);
    const changes = { work, files, signature };
    this.entries.set(agentId, changes);
    this.changed.fire(agentId);
    return changes;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
