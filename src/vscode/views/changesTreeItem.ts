import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import type { AgentChanges } from '../review/agentChanges';
import { baseName, filesChanged } from '../review/changeStatus';

/**
 * The "Changes" child of an agent's row: collapsed until the user opens it,
 * since listing changes brings the agent's work home. Its id is stable, so
 * it keeps its expansion and is refreshed alone when the changes move.
 */
export class ChangesTreeItem extends vscode.TreeItem {
  constructor(public agent: Agent) {
    super('Changes', vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `changes:${agent.id}`;
    this.iconPath = new vscode.ThemeIcon('diff-multiple');
    this.contextValue = ';changes;';
    this.tooltip = `What ${agent.id} changed against its base, committed and uncommitted`;
    this.accessibilityInformation = { label: `changes of ${agent.id}` };
  }

  /** Shows the last look at the agent's changes. */
  update(agent: Agent, changes: AgentChanges | undefined): void {
    this.agent = agent;
    if (!changes) {
      this.description = undefined;
      return;
    }
    const against = baseName(agent.baseBranch, changes.work.base);
    const added = changes.files.reduce((sum, file) => sum + (file.added ?? 0), 0);
    const removed = changes.files.reduce((sum, file) => sum + (file.removed ?? 0), 0);
    const count = changes.files.length;
    // Short, for a narrow sidebar; the tooltip says it whole.
    this.description = count === 0 ? `none against ${against}` : `${count} file${count === 1 ? '' : 's'} · +${added} −${removed}`;
    this.tooltip = count === 0 ? `${agent.id} has no changes against ${against}` : `${agent.id}: ${filesChanged(count)} against ${against}, committed and uncommitted (${added} lines added, ${removed} removed)`;
  }
}

/** A line under Changes that is not a file: loading failed, or there is nothing. */
export class ChangesMessageItem extends vscode.TreeItem {
  constructor(agentId: string, message: string, failed: boolean) {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.id = `changes-message:${agentId}`;
    this.iconPath = failed ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon('check');
    this.tooltip = message;
    this.contextValue = 'changesMessage';
  }
}
