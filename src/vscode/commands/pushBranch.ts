import * as vscode from 'vscode';
import { gitFailure } from '../../core/git/gitFailure';
import { GitisoError } from '../../core/errors';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/** Push Branch: pushes the agent's session branch to its origin and sets it as upstream. */
export async function pushBranch(ctx: CommandContext, target?: AgentTarget): Promise<void> {
  const agent = await pickAgent(ctx.gitiso, target, 'Push Branch', (a) => a.state === 'ready');
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pushing ${agent.sessionBranch}`, cancellable: true }, (_progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return ctx.gitiso.exec.git(agent.id, ['push', '--set-upstream', 'origin', agent.sessionBranch], { signal: abort.signal });
  });
  ctx.outputs.get(agent.id).append(result.stderr + result.stdout);
  if (result.exitCode !== 0) {
    throw new GitisoError(`push of ${agent.sessionBranch} failed: ${gitFailure(result.stderr)}`);
  }
  void vscode.window.showInformationMessage(`Pushed ${agent.sessionBranch} to origin.`);
}
