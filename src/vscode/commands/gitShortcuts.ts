import type { ExecResult } from '../../core/docker/exec';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';
import { runGitInAgent } from './runGitCommand';

/** The git commands one click away in an agent's context menu. */
export const GIT_SHORTCUTS = {
  status: ['status'],
  log: ['log', '--oneline', '--decorate', '--graph', '-30'],
  diff: ['diff', '--stat', '--patch', 'HEAD'],
} as const;

export async function runGitShortcut(ctx: CommandContext, name: keyof typeof GIT_SHORTCUTS, target?: AgentTarget): Promise<ExecResult> {
  const agent = await pickAgent(ctx.gitiso, target, `Git ${name}`);
  return runGitInAgent(ctx, agent.id, GIT_SHORTCUTS[name]);
}
