import * as vscode from 'vscode';
import type { Forward } from '../../core/ports/agentPorts';

/** A forwarded port under its agent: `3000 → 127.0.0.1:49213`; clicking opens the preview. */
export class ForwardTreeItem extends vscode.TreeItem {
  constructor(readonly forward: Forward) {
    super(`${forward.containerPort}`, vscode.TreeItemCollapsibleState.None);
    this.id = `forward:${forward.agentId}:${forward.containerPort}`;
    this.description = `→ ${forward.url.replace(/^http:\/\//, '')}`;
    this.iconPath = new vscode.ThemeIcon('plug');
    this.contextValue = 'forward';
    this.tooltip = new vscode.MarkdownString(`Port **${forward.containerPort}** of agent \`${forward.agentId}\`, forwarded to [${forward.url}](${forward.url}) on this machine only, through the ${forward.through}.`);
    this.command = { command: 'gitiso.openPreview', title: 'Open Preview', arguments: [{ forward }] };
    this.accessibilityInformation = { label: `port ${forward.containerPort} of ${forward.agentId}, forwarded to ${forward.url}` };
  }
}
