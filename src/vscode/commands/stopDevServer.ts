import * as vscode from 'vscode';
import type { CommandContext } from './context';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

/** Stop Dev Server: ends the server's processes in the agent and its forward. */
export async function stopDevServer(ctx: CommandContext, target?: AgentTarget): Promise<void> {
  const agent = await pickAgent(ctx.gitiso, target, 'Stop Dev Server', isRunning);
  await ctx.gitiso.on(agent.id).devServers.stop(agent.id);
  ctx.devStates.set(agent.id, false);
  vscode.window.setStatusBarMessage(`$(debug-stop) gitiso: dev server of ${agent.id} stopped`, 4000);
}
