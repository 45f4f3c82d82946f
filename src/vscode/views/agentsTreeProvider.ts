import * as vscode from 'vscode';
import type { Gitiso } from '../composition';
import { AgentTreeItem } from './agentTreeItem';

/** Renders the model's agents; owns no data and shows no notifications. */
export class AgentsTreeProvider implements vscode.TreeDataProvider<AgentTreeItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(private readonly gitiso: Gitiso) {
    this.subscription = gitiso.onDidChange(() => this.changed.fire());
  }

  getTreeItem(item: AgentTreeItem): AgentTreeItem {
    return item;
  }

  getChildren(parent?: AgentTreeItem): AgentTreeItem[] {
    if (parent) {
      return [];
    }
    const model = this.gitiso.model;
    return model.agents.map((agent) => new AgentTreeItem(agent, model.progressOf(agent.id)));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
