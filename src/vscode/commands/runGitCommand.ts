import * as vscode from 'vscode';
import type { ExecResult } from '../../core/docker/exec';
import { CancelledError, describeCause } from '../../core/errors';
import { splitCommandLine } from '../../core/commandLine';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

const running = (agent: { state: string }): boolean => agent.state === 'ready' || agent.state === 'error';

/**
 * Run Git Command…: the arguments are typed once, split like a shell would
 * split them, and passed as an array. Output goes to the agent's own channel.
 */
export async function runGitCommand(ctx: CommandContext, target?: AgentTarget, given?: string | readonly string[]): Promise<ExecResult> {
  const agent = await pickAgent(ctx.gitiso, target, 'Run Git Command', running);
  let args: readonly string[];
  if (given !== undefined) {
    args = typeof given === 'string' ? splitCommandLine(given) : given;
  } else {
    const line = await vscode.window.showInputBox({
      title: `git in ${agent.id}`,
      prompt: 'Arguments for git, quoted as in a shell (no shell runs them)',
      placeHolder: 'log --oneline -10',
      ignoreFocusOut: true,
      validateInput: (value) => {
        try {
          return splitCommandLine(value).length === 0 ? 'type the arguments for git' : undefined;
        } catch (error) {
          return describeCause(error);
        }
      },
    });
    if (line === undefined) {
      throw new CancelledError('git command');
    }
    args = splitCommandLine(line);
  }
  return runGitInAgent(ctx, agent.id, args);
}

/** Runs git in an agent, shows the output in the agent's channel and returns the result. */
export async function runGitInAgent(ctx: CommandContext, agentId: string, args: readonly string[]): Promise<ExecResult> {
  const channel = ctx.outputs.get(agentId);
  channel.show(true);
  channel.appendLine(`$ git ${args.map(quote).join(' ')}`);
  const result = await withCancellableProgress({ title: `git ${args[0] ?? ''} in ${agentId}`, location: vscode.ProgressLocation.Window }, (signal) =>
    ctx.gitiso.on(agentId).exec.git(agentId, args, {
      signal,
      onStdout: (chunk) => channel.append(chunk.toString('utf8')),
      onStderr: (chunk) => channel.append(chunk.toString('utf8')),
    }),
  );
  channel.appendLine(`[exit code ${result.exitCode}]`);
  channel.appendLine('');
  return result;
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
