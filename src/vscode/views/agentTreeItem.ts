import * as vscode from 'vscode';
import { isRunning, type Agent, type AgentState } from '../../core/agent';
import type { CreateProgress } from '../../core/create/createRequest';
import { formatBytes } from '../../core/limits/agentLimits';
import type { AgentStats } from '../../core/stats/statsSampler';

const STATE_ICONS: Record<AgentState, vscode.ThemeIcon> = {
  creating: new vscode.ThemeIcon('loading~spin'),
  ready: new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor('disabledForeground')),
  error: new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')),
};

const WARNING_ICON = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));

/** What an agent's row shows. */
export interface AgentRowState {
  readonly agent: Agent;
  readonly progress?: CreateProgress;
  readonly forwardCount: number;
  readonly stats?: AgentStats;
}

/**
 * A row of the agents tree. Its id is the agent's, so it is stable across
 * states; it is updated in place, since the view refreshes one row only when
 * given the very object it was handed before.
 */
export class AgentTreeItem extends vscode.TreeItem {
  private state: AgentRowState;

  constructor(state: AgentRowState) {
    super(state.agent.id);
    this.id = `agent:${state.agent.id}`;
    this.state = state;
    this.render();
  }

  get agent(): Agent {
    return this.state.agent;
  }

  /** Whether the row shows CPU and memory figures now. */
  get showsFigures(): boolean {
    return this.state.stats !== undefined;
  }

  /** Shows the agent's state now (the same agent: its id stays). */
  update(state: AgentRowState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const { agent, progress, forwardCount, stats } = this.state;
    // Expanded when it has forwarded ports: they are what the user came to open. A running agent has its Changes beneath.
    this.collapsibleState = forwardCount > 0 ? vscode.TreeItemCollapsibleState.Expanded : isRunning(agent) ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const step = progress && agent.state === 'creating' ? ` · ${progress.message}${progress.percent === undefined ? '' : ` ${progress.percent}%`}` : '';
    const oom = stats?.oomKills ? ` · out of memory (${stats.oomKills} killed)` : '';
    const cost = stats ? ` · ${stats.cpuPercent.toFixed(0)}% · ${formatBytes(stats.memoryBytes)}${oom}` : '';
    this.description = `${agent.sessionBranch} · ${agent.state}${step}${cost}`;
    this.iconPath = agent.state === 'ready' && (agent.setupError || stats?.oomKills) ? WARNING_ICON : STATE_ICONS[agent.state];
    this.contextValue = contextValueOf(agent);
    this.tooltip = tooltipOf(agent, stats);
    this.accessibilityInformation = { label: `agent ${agent.id}, ${agent.state}, branch ${agent.sessionBranch}` };
  }
}

/** `;`-joined flags, matched in package.json with `viewItem =~ /;running;/`. */
export function contextValueOf(agent: Agent): string {
  const flags = ['agent', agent.state];
  if (agent.state === 'ready' || agent.state === 'error') {
    flags.push('running');
  }
  return `;${flags.join(';')};`;
}

function tooltipOf(agent: Agent, stats: AgentStats | undefined): vscode.MarkdownString {
  const rows: [string, string][] = [
    ['Repository', agent.repoUrl],
    ['Base branch', agent.baseBranch || '(remote default)'],
    ['Session branch', agent.sessionBranch],
    ['Base commit', agent.baseCommit?.slice(0, 12) ?? ''],
    ['Image', agent.image],
    ['Container', agent.containerId.slice(0, 12)],
    ['Created', agent.createdAt.getTime() > 0 ? agent.createdAt.toLocaleString() : ''],
  ];
  if (agent.limits) {
    rows.push(['Limits', `${formatBytes(agent.limits.memoryBytes)} · ${agent.limits.cpus} CPUs · ${agent.limits.pids} processes`]);
  }
  if (stats) {
    rows.push(
      ['CPU', `${stats.cpuPercent.toFixed(1)}% of a core`],
      ['Memory', `${formatBytes(stats.memoryBytes)}${stats.memoryLimitBytes ? ` of ${formatBytes(stats.memoryLimitBytes)}` : ''}`],
      ['Processes', String(stats.pids)],
      ['Disk (its own)', stats.diskBytes === undefined ? '' : formatBytes(stats.diskBytes)],
    );
    if (stats.oomKills > 0) {
      rows.push(['Out of memory', `${stats.oomKills} process${stats.oomKills === 1 ? ' was' : 'es were'} killed at the memory limit`]);
    }
  }
  if (agent.reason) {
    rows.push([agent.state === 'error' ? 'Error' : 'Status', agent.reason]);
  }
  const markdown = new vscode.MarkdownString(`**${escape(agent.id)}** · ${agent.state}\n\n| | |\n|---|---|\n`);
  for (const [name, value] of rows.filter(([, value]) => value)) {
    markdown.appendMarkdown(`| ${name} | \`${value.replace(/[|`]/g, '')}\` |\n`);
  }
  return markdown;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');
}
