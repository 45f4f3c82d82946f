import * as vscode from 'vscode';
import type { Gitiso } from '../composition';
import { ContextKeys } from '../contextKeys';
import { attentionBadge } from '../views/agentRowText';
import type { AgentsTreeNode } from '../views/agentsTreeProvider';
import { readWorkspaceRepo } from '../workspaceRepo';

/** Keeps the context keys (welcome views, menus) and the view's badge in step with the agents and the open folder. */
export class ContextKeysController implements vscode.Disposable {
  private readonly keys = new ContextKeys();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly gitiso: Gitiso,
    private readonly view: vscode.TreeView<AgentsTreeNode>,
  ) {
    this.subscriptions = [
      gitiso.onDidChangeAgents(() => this.updateAgentKeys()),
      // A process killed at the memory limit shows in the stats, not in the agent's state.
      gitiso.onDidChangeStats(() => this.updateBadge()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.updateRepositoryKey()),
    ];
    this.updateAgentKeys();
    this.updateRepositoryKey();
  }

  /** The keys as last set (tests read them through the API). */
  snapshot(): Record<string, unknown> {
    return this.keys.snapshot();
  }

  private updateAgentKeys(): void {
    const { model } = this.gitiso;
    const kind = model.engineStatus.kind;
    const count = model.agents.length;
    this.keys.set('gitiso.engineState', kind === 'unknown' ? 'connecting' : kind);
    this.keys.set('gitiso.agentCount', count);
    this.updateBadge();
  }

  /** Set only when it changes: stats come every few seconds. */
  private updateBadge(): void {
    const badge = attentionBadge(this.gitiso.model.agents, (agentId) => this.gitiso.stats.current.get(agentId));
    if (badge?.value !== this.view.badge?.value || badge?.tooltip !== this.view.badge?.tooltip) {
      this.view.badge = badge;
    }
  }

  private updateRepositoryKey(): void {
    void readWorkspaceRepo().then((repo) => this.keys.set('gitiso.hasRepository', repo !== undefined));
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}
