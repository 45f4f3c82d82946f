import type * as vscode from 'vscode';
import type { CommandContext } from './context';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

/** Show Stats: a live chart of the agent's CPU and memory, and its current figures. */
export async function showStats(ctx: CommandContext, target?: AgentTarget): Promise<vscode.WebviewPanel> {
  const agent = await pickAgent(ctx.gitiso, target, 'Show Stats', isRunning);
  return ctx.statsPanels.show(agent.id);
}
