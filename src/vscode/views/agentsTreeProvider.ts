import * as vscode from 'vscode';
import type { Gitiso } from '../composition';
import { AgentTreeItem } from './agentTreeItem';
import { ForwardTreeItem } from './forwardTreeItem';

export type AgentsTreeNode = AgentTreeItem | ForwardTreeItem;

/** Renders the model's agents and this window's forwards of their ports; owns no data and shows no notifications. */
export class AgentsTreeProvider implements vscode.TreeDataProvider<AgentsTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(private readonly gitiso: Gitiso) {
    this.subscription = gitiso.onDidChange(() => this.changed.fire());
  }

  getTreeItem(item: AgentsTreeNode): AgentsTreeNode {
    return item;
  }

  getChildren(parent?: AgentsTreeNode): AgentsTreeNode[] {
    if (parent instanceof AgentTreeItem) {
      return this.gitiso.ports.forwards(parent.agent.id).map((forward) => new ForwardTreeItem(forward));
    }
    if (parent) {
      return [];
    }
    const { model, ports, stats } = this.gitiso;
    return model.agents.map((agent) => new AgentTreeItem(agent, model.progressOf(agent.id), ports.forwards(agent.id).length, stats.current.get(agent.id)));
  }

  getParent(node: AgentsTreeNode): AgentsTreeNode | undefined {
    return node instanceof ForwardTreeItem ? this.agentItems().find((item) => item.agent.id === node.forward.agentId) : undefined;
  }

  /** Agent rows only (tests and the API). */
  agentItems(): AgentTreeItem[] {
    return this.getChildren().filter((node): node is AgentTreeItem => node instanceof AgentTreeItem);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
