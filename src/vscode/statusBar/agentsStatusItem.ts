import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { formatBytes } from '../../core/limits/agentLimits';
import type { AgentStats } from '../../core/stats/statsSampler';
import type { Gitiso } from '../composition';

/** An agent this close to its memory limit turns the item to a warning. */
const MEMORY_WARNING_SHARE = 0.9;

/**
 * One status bar item, updated in place: how many agents, in which states,
 * and what they cost together (`3 agents · 41% · 1.2 GB`); a tooltip table
 * per agent; a click reveals the view. `gitiso.statusBar.show` hides it.
 */
export class AgentsStatusItem implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('gitiso.agents', vscode.StatusBarAlignment.Left, 50);
  private readonly subscriptions: vscode.Disposable[];
  /** Whether the item is shown now (VS Code's item does not tell). */
  shown = false;

  constructor(private readonly gitiso: Gitiso) {
    this.item.name = 'gitiso Agents';
    this.item.command = 'workbench.view.extension.gitiso';
    this.subscriptions = [
      // Forwards do not show here.
      gitiso.onDidChangeAgents(() => this.update()),
      gitiso.onDidChangeStats(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('gitiso.statusBar.show')) {
          this.update();
        }
      }),
    ];
    this.update();
  }

  get visible(): boolean {
    return vscode.workspace.getConfiguration('gitiso').get<boolean>('statusBar.show') ?? true;
  }

  private update(): void {
    this.shown = this.visible;
    if (!this.shown) {
      this.item.hide();
      return;
    }
    this.item.show();
    const { model } = this.gitiso;
    if (model.engineStatus.kind === 'unavailable') {
      this.item.text = '$(server-process) Docker unavailable';
      this.item.tooltip = new vscode.MarkdownString(`gitiso cannot reach Docker.\n\n${model.engineStatus.message}`);
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    const agents = model.agents;
    const stats = agents.flatMap((agent) => this.gitiso.stats.current.get(agent.id) ?? []);
    const totals = stats.length > 0 ? ` · ${Math.round(sum(stats, (s) => s.cpuPercent))}% · ${formatBytes(sum(stats, (s) => s.memoryBytes))}` : '';
    this.item.text = `$(server-process) ${summary(agents)}${totals}`;
    const nearLimit = stats.filter(isNearMemoryLimit);
    this.item.backgroundColor = nearLimit.length > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.tooltip = tooltipOf(agents, this.gitiso.stats.current, nearLimit);
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.item.dispose();
  }
}

function tooltipOf(agents: readonly Agent[], stats: ReadonlyMap<string, AgentStats>, nearLimit: readonly AgentStats[]): vscode.MarkdownString {
  if (agents.length === 0) {
    return new vscode.MarkdownString('No gitiso agents');
  }
  const tooltip = new vscode.MarkdownString('| Agent | State | Branch | CPU | Memory / limit | Disk |\n|---|---|---|---:|---:|---:|\n');
  for (const agent of agents) {
    const s = stats.get(agent.id);
    const cpu = s ? `${s.cpuPercent.toFixed(0)}%` : '';
    const memory = s ? `${formatBytes(s.memoryBytes)} / ${s.memoryLimitBytes ? formatBytes(s.memoryLimitBytes) : '∞'}` : '';
    const disk = s?.diskBytes === undefined ? '' : formatBytes(s.diskBytes);
    tooltip.appendMarkdown(`| ${agent.id} | ${agent.state} | \`${agent.sessionBranch}\` | ${cpu} | ${memory} | ${disk} |\n`);
  }
  if (nearLimit.length > 0) {
    tooltip.appendMarkdown(`\n$(warning) Near its memory limit: ${nearLimit.map((s) => s.agentId).join(', ')}`);
    tooltip.supportThemeIcons = true;
  }
  return tooltip;
}

export function isNearMemoryLimit(stats: AgentStats): boolean {
  return stats.memoryLimitBytes !== undefined && stats.memoryBytes >= stats.memoryLimitBytes * MEMORY_WARNING_SHARE;
}

function sum(stats: readonly AgentStats[], value: (s: AgentStats) => number): number {
  return stats.reduce((total, s) => total + value(s), 0);
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
