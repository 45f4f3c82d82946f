import { OOM_KILLED_REASON, type Agent, type AgentState } from '../../core/agent';
import type { CreateProgress } from '../../core/create/createRequest';
import type { SessionState } from '../../core/codingAgents/sessionState';
import type { AgentStats } from '../../core/stats/statsSampler';

/**
 * What an agent's row says, decided without VS Code (unit-tested): the words
 * of its description, what it needs the user for, and the facts its menus
 * match. The row itself (agentTreeItem.ts) only dresses them.
 */

/** Why an agent needs the user: it failed, the engine killed it (or its processes) at its memory limit, or its install failed. */
export type Attention = 'error' | 'oom-killed' | 'setup-failed';

/** What a row shows of an agent's state: the engine's four, told apart where the user must act. */
export type RowStatus = AgentState | 'oom-killed' | 'install-failed';

export function attentionOf(agent: Agent, stats?: Pick<AgentStats, 'oomKills'>): Attention | undefined {
  if ((agent.state === 'error' && agent.reason === OOM_KILLED_REASON) || (agent.state === 'ready' && (stats?.oomKills ?? 0) > 0)) {
    return 'oom-killed';
  }
  if (agent.state === 'error') {
    return 'error';
  }
  return agent.state === 'ready' && agent.setupError ? 'setup-failed' : undefined;
}

export function rowStatusOf(agent: Agent, stats?: Pick<AgentStats, 'oomKills'>): RowStatus {
  const attention = attentionOf(agent, stats);
  return attention === 'oom-killed' ? 'oom-killed' : attention === 'setup-failed' ? 'install-failed' : agent.state;
}

const STATUS_WORDS: Record<RowStatus, string> = {
  creating: 'creating',
  ready: 'ready',
  stopped: 'stopped',
  error: 'error',
  'oom-killed': 'OOM-killed',
  'install-failed': 'install failed',
};

export function statusWord(status: RowStatus): string {
  return STATUS_WORDS[status];
}

/** What the agent's coding agent is doing, in a word or two: `working`, `waiting`, `finished`, `failed (3)`. */
export function sessionWord(session: Pick<SessionState, 'activity' | 'exitCode'>): string {
  if (session.activity === 'finished' && session.exitCode !== undefined && session.exitCode !== 0) {
    return `failed (${session.exitCode})`;
  }
  return session.activity;
}

/** The longest create step a row shows (the tooltip and the notification have it all). */
const MAX_STEP_CHARS = 24;

/**
 * The row's description, short enough for a narrow sidebar: the state, the
 * create's step while it runs, then CPU and memory while it runs
 * (`ready · 3% · 120M`). The branch, repository and the rest are in the tooltip.
 */
export function rowDescription(row: {
  readonly agent: Agent;
  readonly progress?: Pick<CreateProgress, 'message' | 'percent'>;
  readonly stats?: Pick<AgentStats, 'cpuPercent' | 'memoryBytes' | 'oomKills'>;
  readonly session?: Pick<SessionState, 'activity' | 'exitCode'>;
}): string {
  const { agent, progress, stats, session } = row;
  const status = rowStatusOf(agent, stats);
  // A ready agent with a coding agent says what that one does (`working · 3% · 120M`); anything wrong with the agent comes first.
  const parts = [status === 'ready' && session ? sessionWord(session) : statusWord(status)];
  if (agent.state === 'creating' && progress) {
    const step = progress.message.length > MAX_STEP_CHARS ? `${progress.message.slice(0, MAX_STEP_CHARS - 1)}…` : progress.message;
    parts.push(progress.percent === undefined ? step : `${step} ${progress.percent}%`);
  }
  if (stats && (agent.state === 'ready' || agent.state === 'error')) {
    parts.push(`${Math.round(stats.cpuPercent)}%`, shortBytes(stats.memoryBytes));
  }
  return parts.join(' · ');
}

/** Bytes in at most four characters or so: `512K`, `120M`, `1.5G`. */
export function shortBytes(bytes: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'G'],
    [1024 ** 2, 'M'],
    [1024, 'K'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)}${unit}`;
    }
  }
  return `${Math.max(0, Math.round(bytes))}B`;
}

/** What the window knows of an agent beyond the engine, for its menus. */
export interface RowFacts {
  /** A dev server runs in it, as far as this window knows (started here, or seen by a probe). */
  readonly devRunning?: boolean;
  /** This window forwards at least one of its ports. */
  readonly forwarded?: boolean;
  /** A coding agent's session is in it. */
  readonly session?: boolean;
}

/**
 * The row's contextValue: `;`-joined facts that package.json's menus match
 * with `viewItem =~ /;running;/` (`;` on both sides, so `running` never
 * matches `dev-running`). Facts that are false are left out.
 */
export function contextValueOf(agent: Agent, facts: RowFacts = {}): string {
  const flags = ['agent', agent.state];
  const running = agent.state === 'ready' || agent.state === 'error';
  if (running) {
    flags.push('running');
  }
  if (running && facts.devRunning) {
    flags.push('dev-running');
  }
  if (running && facts.forwarded) {
    flags.push('forwarded');
  }
  if (running && facts.session) {
    flags.push('session');
  }
  return `;${flags.join(';')};`;
}

/** The view's badge: how many agents need the user (failed, OOM-killed, install failed); none when no agent does. */
export function attentionBadge(agents: readonly Agent[], statsOf: (agentId: string) => Pick<AgentStats, 'oomKills'> | undefined = () => undefined): { value: number; tooltip: string } | undefined {
  const needy = agents.filter((agent) => attentionOf(agent, statsOf(agent.id)));
  if (needy.length === 0) {
    return undefined;
  }
  const what = needy.length === 1 ? '1 agent needs' : `${needy.length} agents need`;
  return { value: needy.length, tooltip: `${what} attention (failed, out of memory or install failed): ${needy.map((agent) => agent.id).join(', ')}` };
}
