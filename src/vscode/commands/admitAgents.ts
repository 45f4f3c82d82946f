import * as vscode from 'vscode';
import type { CreateRequest } from '../../core/create/createRequest';
import { CancelledError } from '../../core/errors';
import { AdmissionError } from '../../core/limits/agentLimits';
import type { CommandContext } from './context';

/**
 * Admission control before a create, done once here: when the agents' memory
 * limits do not fit the engine's memory, the user decides (a modal that says
 * how much is reserved). Returns when the create is to go ahead (then with
 * `force`, as it was admitted); throws CancelledError when the user declines.
 */
export async function admitOrConfirm(ctx: CommandContext, requests: readonly CreateRequest[]): Promise<void> {
  try {
    await ctx.gitiso.admission.admit(requests);
  } catch (error) {
    if (!(error instanceof AdmissionError)) {
      throw error;
    }
    const choice = await vscode.window.showWarningMessage(error.message.replace(/ Remove or stop.*$/, ''), { modal: true, detail: 'Limits are ceilings: agents that stay below them fit. Lower gitiso.limits.memory, or remove agents, to stay safe.' }, 'Create Anyway');
    if (choice !== 'Create Anyway') {
      throw new CancelledError('creation');
    }
  }
}
