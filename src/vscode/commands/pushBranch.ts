import * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import type { PushOutcome } from '../../core/roundTrip/roundTripTypes';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/**
 * Push Branch: the host pushes the agent's branch, brought home into the
 * pool, to the agent's origin with the host's own credentials (the agent has
 * none). A missing credential is an error that says how to give the host one.
 */
export async function pushBranch(ctx: CommandContext, target?: AgentTarget): Promise<PushOutcome> {
  const agent = await pickAgent(ctx.gitiso, target, 'Push Branch', isRunning);
  const outcome = await withCancellableProgress({ title: `Pushing ${agent.sessionBranch} from this machine` }, (signal, progress) =>
    ctx.gitiso.on(agent.id).roundTrip.push(agent.id, { signal, onProgress: (message: string) => progress.report({ message }) }),
  );
  ctx.outputs.get(agent.id).appendLine(`push: ${outcome.sentence}`);
  if (outcome.kind === 'rejected') {
    void vscode.window.showWarningMessage(outcome.sentence);
  } else {
    void vscode.window.showInformationMessage(outcome.sentence);
  }
  return outcome;
}
