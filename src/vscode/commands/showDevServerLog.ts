import type * as vscode from 'vscode';
import { DEV_LOG } from '../../core/dev/devServers';
import { createAgentTerminal } from '../terminal/agentTerminal';
import type { CommandContext } from './context';
import { stillRuns } from './openTerminal';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

/** Show Dev Server Log: the log, followed live, in a terminal (colours and all); closing it stops only the view. */
export async function showDevServerLog(ctx: CommandContext, target?: AgentTarget): Promise<vscode.Terminal> {
  const agent = await pickAgent(ctx.gitiso, target, 'Show Dev Server Log', isRunning);
  const terminal = createAgentTerminal(ctx.gitiso.on(agent.id).exec, {
    agentId: agent.id,
    containerId: agent.containerId,
    name: `dev: ${agent.id}`,
    command: ['tail', '-n', '500', '-F', DEV_LOG],
    stillRuns: () => stillRuns(ctx, agent),
  });
  terminal.show();
  return terminal;
}
