import * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import type { PushOutcome } from '../../core/roundTrip/roundTripTypes';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/**
 * Push Branch: the host pushes the agent's branch, brought home into the
 * pool, to the agent's origin with the host's own credentials (the agent has
 * none). A missing credential is an error that says how to give the host one.
 */
export async function pushBranch(ctx: CommandContext, target?: AgentTarget): Promise<PushOutcome> {
  const agent = await pickAgent(ctx.gitiso, target, 'Push Branch', isRunning);
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pushing ${agent.sessionBranch} from this machine`, cancellable: true }, (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return ctx.gitiso.roundTrip.push(agent.id, { signal: abort.signal, onProgress: (message: string) => progress.report({ message }) });
  });
  ctx.outputs.get(agent.id).appendLine(`push: ${outcome.sentence}`);
  if (outcome.kind === 'rejected') {
    void vscode.window.showWarningMessage(outcome.sentence);
  } else {
    void vscode.window.showInformationMessage(outcome.sentence);
  }
  return outcome;
}
