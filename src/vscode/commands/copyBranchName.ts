import * as vscode from 'vscode';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

export async function copyBranchName(ctx: CommandContext, target?: AgentTarget): Promise<string> {
  const agent = await pickAgent(ctx.gitiso, target, 'Copy Branch Name');
  await vscode.env.clipboard.writeText(agent.sessionBranch);
  vscode.window.setStatusBarMessage(`$(copy) Copied ${agent.sessionBranch}`, 3000);
  return agent.sessionBranch;
}
