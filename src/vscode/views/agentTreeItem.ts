import * as vscode from 'vscode';
import { isRunning, type Agent } from '../../core/agent';
import type { CreateProgress } from '../../core/create/createRequest';
import { formatBytes } from '../../core/limits/agentLimits';
import type { AgentStats } from '../../core/stats/statsSampler';
import type { SessionState } from '../../core/codingAgents/sessionState';
import type { AgentUsage } from '../../core/apiProxy/agentUsage';
import { usageLine } from '../../core/apiProxy/usageText';
import { contextValueOf, rowDescription, rowStatusOf, sessionWord, statusWord, type RowStatus } from './agentRowText';

const STATUS_ICONS: Record<RowStatus, vscode.ThemeIcon> = {
  creating: new vscode.ThemeIcon('loading~spin'),
  ready: new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('debug-stop', new vscode.ThemeColor('disabledForeground')),
  error: new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')),
  'oom-killed': new vscode.ThemeIcon('flame', new vscode.ThemeColor('errorForeground')),
  'install-failed': new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
};

/** A ready agent's icon says what its coding agent does: at work, waiting for the user, done, or failed. */
function sessionIcon(session: SessionState): vscode.ThemeIcon {
  switch (session.activity) {
    case 'working':
      return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'));
    case 'waiting':
      return new vscode.ThemeIcon('bell-dot', new vscode.ThemeColor('list.warningForeground'));
    default:
      return session.exitCode !== undefined && session.exitCode !== 0 ? new vscode.ThemeIcon('close', new vscode.ThemeColor('errorForeground')) : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
  }
}

/** What an agent's row shows. */
export interface AgentRowState {
  readonly agent: Agent;
  readonly progress?: CreateProgress;
  readonly forwardCount: number;
  readonly stats?: AgentStats;
  /** A dev server runs in it, as far as this window knows. */
  readonly devRunning?: boolean;
  /** Whether the user last opened (true) or closed (false) the row; undefined while they never did. */
  readonly expanded?: boolean;
  /** What its coding agent is doing, when it has one. */
  readonly session?: SessionState;
  /** What its coding agent used of its API through the key proxy, when it used any. */
  readonly usage?: AgentUsage;
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

  /** What the row shows, as one string: a redraw that leaves it the same need not reach the view. */
  get look(): string {
    const icon = Object.entries(STATUS_ICONS).find(([, themeIcon]) => themeIcon === this.iconPath)?.[0];
    const tooltip = this.tooltip instanceof vscode.MarkdownString ? this.tooltip.value : this.tooltip;
    return JSON.stringify([this.description, icon, this.contextValue, this.collapsibleState, tooltip, this.accessibilityInformation?.label]);
  }

  /** Shows the agent's state now (the same agent: its id stays). */
  update(state: AgentRowState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const { agent, progress, forwardCount, stats, session } = this.state;
    // A running agent has its Changes beneath. Open when it has forwarded ports (what the user came to open), unless
    // the user closed it; kept as the user left it, since a redrawn row takes the state it is given.
    const open = this.state.expanded ?? forwardCount > 0;
    this.collapsibleState = forwardCount === 0 && !isRunning(agent) ? vscode.TreeItemCollapsibleState.None : open ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
    const status = rowStatusOf(agent, stats);
    this.description = rowDescription({ agent, progress, stats, session });
    this.iconPath = status === 'ready' && session ? sessionIcon(session) : STATUS_ICONS[status];
    this.contextValue = contextValueOf(agent, { devRunning: this.state.devRunning, forwarded: forwardCount > 0, session: session !== undefined });
    this.tooltip = tooltipOf(agent, { stats, progress, session, usage: this.state.usage });
    this.accessibilityInformation = { label: `agent ${agent.id}, ${statusWord(status)}, branch ${agent.sessionBranch}` };
  }
}

/** Everything the description leaves out; plain Markdown, never trusted (the agent's reason and labels are its own words). */
function tooltipOf(agent: Agent, { stats, progress, session, usage }: Omit<AgentRowState, 'agent' | 'forwardCount'>): vscode.MarkdownString {
  const rows: [string, string][] = [
    ['Task', session?.task?.title ?? ''],
    ['Coding agent', session ? `${session.task?.preset ?? 'unknown'}: ${sessionWord(session)}` : ''],
    ['API', usageLine(usage) ?? ''],
    ['Step', agent.state === 'creating' && progress ? `${progress.message}${progress.percent === undefined ? '' : ` ${progress.percent}%`}` : ''],
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
  const markdown = new vscode.MarkdownString(`**${escape(agent.id)}** · ${statusWord(rowStatusOf(agent, stats))}\n\n| | |\n|---|---|\n`);
  markdown.isTrusted = false;
  markdown.supportHtml = false;
  for (const [name, value] of rows.filter(([, value]) => value)) {
    markdown.appendMarkdown(`| ${name} | \`${value.replace(/[|`]/g, '').replace(/\s+/g, ' ')}\` |\n`);
  }
  return markdown;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');
}
