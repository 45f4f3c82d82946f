import * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import type { Gitiso } from '../composition';
import type { AgentChangesCache } from '../review/agentChanges';
import { AgentTreeItem } from '../views/agentTreeItem';
import type { AgentsTreeNode, AgentsTreeProvider } from '../views/agentsTreeProvider';
import { ChangesTreeItem } from '../views/changesTreeItem';

/** How often an open Changes node asks its agent whether its work moved. */
export const CHANGES_POLL_MS = 5_000;

/**
 * Keeps the open Changes nodes current: every few seconds, only for agents
 * whose Changes node is expanded (under an expanded row) and only while the
 * view is visible in a focused window, it asks each for its signature (one
 * small exec) and brings the work home again only when it moved.
 */
export class ChangesRefreshController implements vscode.Disposable {
  private readonly expanded = new Set<string>();
  private readonly collapsedRows = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    gitiso: Gitiso,
    private readonly changes: AgentChangesCache,
    private readonly view: vscode.TreeView<AgentsTreeNode>,
    tree: Pick<AgentsTreeProvider, 'onDidShowOpen'>,
  ) {
    const update = (): void => this.updateTimer();
    this.subscriptions = [
      view.onDidExpandElement(({ element }) => this.track(element, true)),
      view.onDidCollapseElement(({ element }) => this.track(element, false)),
      // What the view shows open is open, whether or not its expand event came.
      tree.onDidShowOpen((element) => this.track(element, true)),
      view.onDidChangeVisibility(update),
      vscode.window.onDidChangeWindowState(update),
      gitiso.onDidChangeAgents(() => {
        const running = new Set(gitiso.model.agents.filter(isRunning).map((agent) => agent.id));
        [...this.expanded].filter((id) => !running.has(id)).forEach((id) => this.expanded.delete(id));
        update();
      }),
    ];
  }

  /** The agents being watched now (tests read it). */
  get watched(): string[] {
    return this.shouldPoll() ? this.watchedAgents() : [];
  }

  private track(element: AgentsTreeNode, expanded: boolean): void {
    if (element instanceof ChangesTreeItem) {
      toggle(this.expanded, element.agent.id, expanded);
    } else if (element instanceof AgentTreeItem) {
      toggle(this.collapsedRows, element.agent.id, !expanded);
    }
    this.updateTimer();
  }

  private watchedAgents(): string[] {
    return [...this.expanded].filter((id) => !this.collapsedRows.has(id));
  }

  private shouldPoll(): boolean {
    return this.view.visible && vscode.window.state.focused && this.watchedAgents().length > 0;
  }

  private updateTimer(): void {
    if (this.shouldPoll() && !this.timer) {
      this.timer = setInterval(() => void this.poll(), CHANGES_POLL_MS);
    } else if (!this.shouldPoll() && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** One look at every watched agent; a look still running when the next is due is not doubled. */
  private async poll(): Promise<void> {
    if (this.polling) {
      return;
    }
    this.polling = true;
    try {
      for (const id of this.watchedAgents()) {
        // A failure (the agent stopping, say) shows on the next expand; polling stays quiet.
        await this.changes.refreshIfChanged(id).catch(() => undefined);
      }
    } finally {
      this.polling = false;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}

function toggle(set: Set<string>, id: string, present: boolean): void {
  if (present) {
    set.add(id);
  } else {
    set.delete(id);
  }
}
