import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import type { Gitiso } from '../composition';
import { AgentTreeItem, type AgentRowState } from './agentTreeItem';
import { ForwardTreeItem } from './forwardTreeItem';

export type AgentsTreeNode = AgentTreeItem | ForwardTreeItem;

/** How often the provider asked the view to refresh, and how (the extension-host tests read it). */
export interface TreeRefreshCounts {
  /** Refreshes of the whole tree. */
  readonly full: number;
  /** Refreshes of some agent rows only (with their forwards). */
  readonly rows: number;
}

/**
 * Renders the model's agents and this window's forwards of their ports; owns
 * no data and shows no notifications. A change of agents refreshes the whole
 * tree; a forward or a stats sample refreshes only the rows it touches.
 */
export class AgentsTreeProvider implements vscode.TreeDataProvider<AgentsTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<AgentsTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The rows handed out, by agent id: the view refreshes a row only by the same object. */
  private readonly rows = new Map<string, AgentTreeItem>();
  private fullRefreshes = 0;
  private rowRefreshes = 0;

  constructor(private readonly gitiso: Gitiso) {
    this.subscriptions = [
      gitiso.onDidChangeAgents(() => this.refreshAll()),
      gitiso.onDidChangeForwards((agentId) => this.refreshRows((row) => row.agent.id === agentId)),
      // A row that loses its figures (its agent stopped) is refreshed too.
      gitiso.onDidChangeStats(() => this.refreshRows((row) => row.showsFigures || gitiso.stats.current.has(row.agent.id))),
    ];
  }

  get refreshCounts(): TreeRefreshCounts {
    return { full: this.fullRefreshes, rows: this.rowRefreshes };
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
    const agents = this.gitiso.model.agents;
    const ids = new Set(agents.map((agent) => agent.id));
    for (const id of [...this.rows.keys()].filter((id) => !ids.has(id))) {
      this.rows.delete(id);
    }
    return agents.map((agent) => this.rowOf(agent));
  }

  getParent(node: AgentsTreeNode): AgentsTreeNode | undefined {
    return node instanceof ForwardTreeItem ? this.agentItems().find((item) => item.agent.id === node.forward.agentId) : undefined;
  }

  /** Agent rows only (tests and the API). */
  agentItems(): AgentTreeItem[] {
    return this.getChildren().filter((node): node is AgentTreeItem => node instanceof AgentTreeItem);
  }

  /** The agent's row, the same object as before when it had one, showing the agent now. */
  private rowOf(agent: Agent): AgentTreeItem {
    const state = this.rowStateOf(agent);
    const row = this.rows.get(agent.id);
    if (row) {
      row.update(state);
      return row;
    }
    const created = new AgentTreeItem(state);
    this.rows.set(agent.id, created);
    return created;
  }

  private rowStateOf(agent: Agent): AgentRowState {
    const { model, ports, stats } = this.gitiso;
    return { agent, progress: model.progressOf(agent.id), forwardCount: ports.forwards(agent.id).length, stats: stats.current.get(agent.id) };
  }

  private refreshAll(): void {
    this.fullRefreshes++;
    this.changed.fire(undefined);
  }

  /** Updates the rows the view was given that `affected` picks, and refreshes only those. */
  private refreshRows(affected: (row: AgentTreeItem) => boolean): void {
    const rows = [...this.rows.values()].filter(affected);
    if (rows.length === 0) {
      return;
    }
    const agents = new Map(this.gitiso.model.agents.map((agent) => [agent.id, agent]));
    for (const row of rows) {
      row.update(this.rowStateOf(agents.get(row.agent.id) ?? row.agent));
    }
    this.rowRefreshes++;
    this.changed.fire(rows);
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.changed.dispose();
  }
}
