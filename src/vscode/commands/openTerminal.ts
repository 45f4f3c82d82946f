import type * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { ATTACH_COMMAND } from '../../core/codingAgents/agentSessions';
import { AgentNotRunningError } from '../../core/errors';
import { createAgentTerminal } from '../terminal/agentTerminal';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/**
 * Open Terminal: the agent's coding agent session when it has one (attached:
 * closing the terminal detaches and leaves it running), else a shell inside
 * the agent's container, in /workspace.
 */
export async function openTerminal(ctx: CommandContext, target?: AgentTarget): Promise<vscode.Terminal> {
  const agent = await pickAgent(ctx.gitiso, target, 'Open Terminal', (a) => a.state === 'ready' || a.state === 'error');
  if (agent.state === 'stopped' || agent.state === 'creating' || !agent.containerId) {
    throw new AgentNotRunningError(agent.id, agent.state);
  }
  const session = await ctx.gitiso.on(agent.id).sessions.state(agent.id).catch(() => undefined);
  const terminal = createAgentTerminal(ctx.gitiso.on(agent.id).exec, {
    agentId: agent.id,
    containerId: agent.containerId,
    stillRuns: () => stillRuns(ctx, agent),
    ...(session ? { name: `${agent.id}: ${session.task?.preset ?? 'session'}`, command: ATTACH_COMMAND } : {}),
  });
  terminal.show();
  return terminal;
}

/** Whether the agent runs in the same container still (a removed one, made again with the same id, is another). */
export async function stillRuns(ctx: CommandContext, agent: Pick<Agent, 'id' | 'containerId'>): Promise<boolean> {
  try {
    const now = await ctx.gitiso.on(agent.id).agents.get(agent.id);
    return now.containerId === agent.containerId && (now.state === 'ready' || now.state === 'error');
  } catch {
    return false;
  }
}
