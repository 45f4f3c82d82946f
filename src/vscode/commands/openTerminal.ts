import type * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { AgentNotRunningError } from '../../core/errors';
import { createAgentTerminal } from '../terminal/agentTerminal';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/** Open Terminal: a shell inside the agent's container, in /workspace. */
export async function openTerminal(ctx: CommandContext, target?: AgentTarget): Promise<vscode.Terminal> {
  const agent = await pickAgent(ctx.gitiso, target, 'Open Terminal', (a) => a.state === 'ready' || a.state === 'error');
  if (agent.state === 'stopped' || agent.state === 'creating' || !agent.containerId) {
    throw new AgentNotRunningError(agent.id, agent.state);
  }
  const terminal = createAgentTerminal(ctx.gitiso.exec, { agentId: agent.id, containerId: agent.containerId, stillRuns: () => stillRuns(ctx, agent) });
  terminal.show();
  return terminal;
}

/** Whether the agent runs in the same container still (a removed one, made again with the same id, is another). */
export async function stillRuns(ctx: CommandContext, agent: Pick<Agent, 'id' | 'containerId'>): Promise<boolean> {
  try {
    const now = await ctx.gitiso.agents.get(agent.id);
    return now.containerId === agent.containerId && (now.state === 'ready' || now.state === 'error');
  } catch {
    return false;
  }
}
