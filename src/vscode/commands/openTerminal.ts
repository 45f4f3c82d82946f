import type * as vscode from 'vscode';
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
  const terminal = createAgentTerminal(ctx.gitiso.exec, { agentId: agent.id, containerId: agent.containerId });
  terminal.show();
  return terminal;
}
