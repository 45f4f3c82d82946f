import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { engineRowText } from './engineRowText';

/** With more than one engine, agents group under their engine's row: whether it answers, its agents, their memory against its total. */
export class EngineTreeItem extends vscode.TreeItem {
  constructor(
    readonly engineName: string,
    text: ReturnType<typeof engineRowText>,
  ) {
    super(engineName, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `engine:${engineName}`;
    this.update(text);
  }

  update(text: ReturnType<typeof engineRowText>): void {
    this.description = text.description;
    this.tooltip = text.tooltip;
    this.contextValue = text.contextValue;
    this.iconPath = new vscode.ThemeIcon(text.contextValue.includes(';unavailable;') ? 'debug-disconnect' : 'server', text.contextValue.includes(';unavailable;') ? new vscode.ThemeColor('problemsWarningIcon.foreground') : undefined);
    this.accessibilityInformation = { label: `engine ${this.engineName}: ${text.description}` };
  }
}

/** An agent of an engine that does not answer, as it was when it last did: nothing can be done with it until the engine is back. */
export class UnreachableAgentTreeItem extends vscode.TreeItem {
  constructor(
    readonly agent: Agent,
    readonly engineName: string,
  ) {
    super(agent.id, vscode.TreeItemCollapsibleState.None);
    this.id = `unreachable:${engineName}:${agent.id}`;
    this.description = `unreachable · ${agent.sessionBranch}`;
    this.iconPath = new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground'));
    this.contextValue = 'unreachable';
    this.tooltip = `${agent.id} is on ${engineName}, which does not answer: it comes back when the engine does.`;
    this.accessibilityInformation = { label: `${agent.id}, unreachable: engine ${engineName} does not answer` };
  }
}
