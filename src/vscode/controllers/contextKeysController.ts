import * as vscode from 'vscode';
import type { Gitiso } from '../composition';
import { ContextKeys } from '../contextKeys';
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
    this.subscriptions = [gitiso.onDidChangeAgents(() => this.updateAgentKeys()), vscode.workspace.onDidChangeWorkspaceFolders(() => this.updateRepositoryKey())];
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
    this.view.badge = count > 0 ? { value: count, tooltip: count === 1 ? '1 agent' : `${count} agents` } : undefined;
  }

  private updateRepositoryKey(): void {
    void readWorkspaceRepo().then((repo) => this.keys.set('gitiso.hasRepository', repo !== undefined));
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}
