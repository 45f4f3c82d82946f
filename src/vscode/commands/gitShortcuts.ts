import type { Agent } from '../../core/agent';
import type { ExecResult } from '../../core/docker/exec';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';
import { runGitInAgent } from './runGitCommand';

/** The git commands one click away in an agent's context menu. */
export const GIT_SHORTCUTS = {
  status: ['status'],
  log: ['log', '--oneline', '--decorate', '--graph', '-30'],
} as const;

export type GitShortcut = keyof typeof GIT_SHORTCUTS | 'diff';

/** What a shortcut ran; Git Diff adds what it said below the output (no changes, untracked files). */
export type GitShortcutResult = ExecResult & { readonly note?: string };

export async function runGitShortcut(ctx: CommandContext, name: GitShortcut, target?: AgentTarget): Promise<GitShortcutResult> {
  const agent = await pickAgent(ctx.gitiso, target, `Git ${name}`);
  return name === 'diff' ? gitDiffAgainstBase(ctx, agent) : runGitInAgent(ctx, agent.id, GIT_SHORTCUTS[name]);
}

/**
 * Git Diff: the working tree against the commit the agent started from, so
 * its commits show as well as what it has not committed. Untracked files are
 * named (git diff leaves them out; Review Changes shows them whole).
 */
async function gitDiffAgainstBase(ctx: CommandContext, agent: Agent): Promise<GitShortcutResult> {
  const base = agent.baseCommit ?? 'HEAD';
  const against = agent.baseBranch || base.slice(0, 12);
  const diff = await runGitInAgent(ctx, agent.id, ['diff', '--stat', '--patch', base, '--']);
  if (diff.exitCode !== 0) {
    return diff;
  }
  const untracked = await ctx.gitiso.on(agent.id).exec.git(agent.id, ['ls-files', '--others', '--exclude-standard', '-z']);
  const names = untracked.exitCode === 0 ? untracked.stdout.split('\0').filter(Boolean) : [];
  let note: string | undefined;
  if (names.length > 0) {
    note = `untracked, not in the diff above (${names.length}): ${names.slice(0, 50).join(', ')}${names.length > 50 ? ', …' : ''}`;
  } else if (diff.stdout.trim() === '') {
    note = `no changes against ${against}`;
  }
  if (note) {
    ctx.outputs.get(agent.id).appendLine(note);
  }
  return { ...diff, note };
}
