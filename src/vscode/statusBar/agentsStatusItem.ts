import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import type { Gitiso } from '../composition';

/** One status bar item, updated in place: how many agents, in which states; a click reveals the view. */
export class AgentsStatusItem implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('gitiso.agents', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: { dispose(): void };

  constructor(private readonly gitiso: Gitiso) {
    this.item.name = 'gitiso Agents';
    this.item.command = 'workbench.view.extension.gitiso';
    this.subscription = gitiso.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  private update(): void {
    const { model } = this.gitiso;
    if (model.engineStatus.kind === 'unavailable') {
      this.item.text = '$(server-process) Docker unavailable';
      this.item.tooltip = new vscode.MarkdownString(`gitiso cannot reach Docker.\n\n${model.engineStatus.message}`);
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    const agents = model.agents;
    this.item.text = `$(server-process) ${summary(agents)}`;
    this.item.backgroundColor = undefined;
    const tooltip = new vscode.MarkdownString(agents.length === 0 ? 'No gitiso agents' : '| Agent | State | Branch |\n|---|---|---|\n');
    for (const agent of agents) {
      tooltip.appendMarkdown(`| ${agent.id} | ${agent.state} | \`${agent.sessionBranch}\` |\n`);
    }
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** "3 agents", or "3 agents (1 creating, 1 error)". */
export function summary(agents: readonly Agent[]): string {
  const counts = new Map<string, number>();
  for (const agent of agents) {
    if (agent.state !== 'ready') {
      counts.set(agent.state, (counts.get(agent.state) ?? 0) + 1);
    }
  }
  const noun = agents.length === 1 ? 'agent' : 'agents';
  const states = [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
  return `${agents.length} ${noun}${states ? ` (${states})` : ''}`;
}
