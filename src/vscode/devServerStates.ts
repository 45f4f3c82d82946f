import * as vscode from 'vscode';
import type { Gitiso } from './composition';

/**
 * Whether a dev server runs in each running agent, as far as this window
 * knows, for the rows' menus: set by this window's Start, Restart and Stop,
 * and read once with a probe when a ready agent first shows (one started
 * elsewhere, before a reload). No polling: a server that dies on its own
 * still shows Stop, which is harmless.
 */
export class DevServerStates implements vscode.Disposable {
  private readonly known = new Map<string, boolean>();
  private readonly probed = new Set<string>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires an agent's id when what is known of its dev server changes. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly gitiso: Gitiso) {
    this.subscription = gitiso.onDidChangeAgents(() => this.follow());
    this.follow();
  }

  isRunning(agentId: string): boolean {
    return this.known.get(agentId) === true;
  }

  /** What a command of this window did (Start, Restart: true; Stop: false). */
  set(agentId: string, running: boolean): void {
    this.probed.add(agentId);
    if (this.known.get(agentId) !== running) {
      this.known.set(agentId, running);
      this.changed.fire(agentId);
    }
  }

  /** Forgets agents that no longer run (a stopped agent's server is gone) and probes the ready ones seen for the first time. */
  private follow(): void {
    const ready = new Set(this.gitiso.model.agents.filter((agent) => agent.state === 'ready').map((agent) => agent.id));
    for (const id of [...this.probed].filter((id) => !ready.has(id))) {
      this.probed.delete(id);
      if (this.known.delete(id)) {
        this.changed.fire(id);
      }
    }
    for (const id of [...ready].filter((id) => !this.probed.has(id))) {
      this.probed.add(id);
      this.gitiso.devServers.status(id).then(
        (info) => {
          if (this.probed.has(id) && !this.known.has(id)) {
            this.set(id, info !== undefined);
          }
        },
        () => undefined,
      );
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
