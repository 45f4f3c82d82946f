import * as vscode from 'vscode';
import type { Gitiso } from './composition';
import { startAfter } from './views/firstTree';

/** Probes at once: each opens a channel into its agent, and 100 agents must not flood the engine. */
const MAX_PROBES = 4;

/**
 * Whether a dev server runs in each running agent, as far as this window
 * knows, for the rows' menus: set by this window's Start, Restart and Stop,
 * and read once with a probe when a ready agent first shows (one started
 * elsewhere, before a reload), after the first tree, a few at a time. No
 * polling: a server that dies on its own still shows Stop, which is harmless.
 */
export class DevServerStates implements vscode.Disposable {
  private readonly known = new Map<string, boolean>();
  private readonly probed = new Set<string>();
  /** Agents waiting for their probe, and how many run now. */
  private readonly queue: string[] = [];
  private probing = 0;
  private started = false;
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires an agent's id when what is known of its dev server changes. */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  /** `afterFirstTree`: the probes wait for it (the tree needs the engine first). */
  constructor(
    private readonly gitiso: Gitiso,
    afterFirstTree: Promise<void> = Promise.resolve(),
  ) {
    this.subscriptions = [
      gitiso.onDidChangeAgents(() => this.follow()),
      startAfter(afterFirstTree, () => {
        this.started = true;
        this.follow();
      }),
    ];
  }

  isRunning(agentId: string): boolean {
    return this.known.get(agentId) === true;
  }

  /** What a command of this window did (Start, Restart: true; Stop: false). */
  set(agentId: string, running: boolean): void {
    this.probed.add(agentId);
    const shown = this.isRunning(agentId);
    this.known.set(agentId, running);
    // Unknown shows as not running: a probe that finds none changes no row.
    if (shown !== running) {
      this.changed.fire(agentId);
    }
  }

  /** Forgets agents that no longer run (a stopped agent's server is gone) and probes the ready ones seen for the first time. */
  private follow(): void {
    if (!this.started) {
      return;
    }
    const ready = new Set(this.gitiso.model.agents.filter((agent) => agent.state === 'ready').map((agent) => agent.id));
    for (const id of [...this.probed].filter((id) => !ready.has(id))) {
      this.probed.delete(id);
      if (this.known.delete(id)) {
        this.changed.fire(id);
      }
    }
    for (const id of [...ready].filter((id) => !this.probed.has(id))) {
      this.probed.add(id);
      this.queue.push(id);
    }
    this.probeNext();
  }

  private probeNext(): void {
    while (this.probing < MAX_PROBES && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      if (!this.probed.has(id) || this.known.has(id)) {
        continue; // gone meanwhile, or a command of this window said
      }
      this.probing++;
      Promise.resolve()
        .then(() => this.gitiso.on(id).devServers.status(id))
        .then(
          (info) => {
            if (this.probed.has(id) && !this.known.has(id)) {
              this.set(id, info !== undefined);
            }
          },
          () => undefined,
        )
        .finally(() => {
          this.probing--;
          this.probeNext();
        });
    }
  }

  dispose(): void {
    this.started = false;
    this.queue.length = 0;
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.changed.dispose();
  }
}
