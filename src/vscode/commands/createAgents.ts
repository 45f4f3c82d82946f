import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { CancelledError, isCancellation, describeCause } from '../../core/errors';
import { validateAgentId } from '../../core/names';
import { readSettings } from '../config';
import type { CommandContext } from './context';
import { admitOrConfirm } from './admitAgents';
import { askBaseBranch, askRepository, freeIds, requireTrustedWorkspace } from './createInputs';
import { folderOfRepository } from '../workspaceRepo';

export interface CreateAgentsOptions {
  readonly count?: number;
  readonly prefix?: string;
  readonly repoUrl?: string;
  readonly baseBranch?: string;
}

const TITLE = 'Create Several Agents';

/**
 * Create Several Agents: a count and a prefix; the agents are created
 * concurrently (gitiso.createConcurrency at a time), every row appears at once
 * in the creating state, and one failure does not stop the others.
 */
export async function createAgents(ctx: CommandContext, given: CreateAgentsOptions = {}): Promise<Agent[]> {
  requireTrustedWorkspace();
  const { model } = ctx.gitiso;
  const count = given.count ?? (await askCount());
  const prefix = given.prefix ?? (await askPrefix());
  const repoUrl = given.repoUrl ?? (await askRepository(TITLE));
  const baseBranch = given.repoUrl ? given.baseBranch : await askBaseBranch(repoUrl, TITLE);
  const settings = readSettings();
  const ids = freeIds(new Set(model.agents.map((agent) => agent.id)), prefix, count);
  const copyFrom = await folderOfRepository(repoUrl);

  // The burst is admitted (or confirmed) as a whole, before anything is made.
  await admitOrConfirm(ctx, ids.map((id) => ({ id, repoUrl })));
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Creating ${count} agents`, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    const created: Agent[] = [];
    const failed: string[] = [];
    try {
      await model.createMany(
        ids.map((id) => ({ id, repoUrl, baseBranch, image: settings.image, copyFrom })),
        {
          signal: abort.signal,
          force: true, // admitted, or confirmed by the user, just now
          concurrency: settings.createConcurrency,
          onSettled: (outcome) => {
            if ('agent' in outcome) {
              created.push(outcome.agent);
            } else if (!isCancellation(outcome.error)) {
              failed.push(`${outcome.id}: ${describeCause(outcome.error)}`);
              ctx.log.error(`agent '${outcome.id}' could not be created: ${describeCause(outcome.error)}`);
            }
            progress.report({ message: `${created.length} of ${count} ready${failed.length ? `, ${failed.length} failed` : ''}`, increment: 100 / count });
          },
        },
      );
    } finally {
      cancel.dispose();
    }
    if (failed.length > 0) {
      void vscode.window.showErrorMessage(`gitiso: ${failed.length} of ${count} agents could not be created: ${failed.join('; ')}`, 'Show Log').then((choice) => {
        if (choice === 'Show Log') {
          ctx.log.show();
        }
      });
    } else if (!abort.signal.aborted) {
      void vscode.window.showInformationMessage(`${created.length} agents are ready: ${created.map((agent) => agent.id).join(', ')}.`);
    }
    return created;
  });
}

async function askCount(): Promise<number> {
  const value = await vscode.window.showInputBox({
    title: `${TITLE}: How many?`,
    value: '3',
    ignoreFocusOut: true,
    validateInput: (text) => (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 20 ? undefined : 'a number from 1 to 20'),
  });
  if (value === undefined) {
    throw new CancelledError(TITLE);
  }
  return Number(value);
}

async function askPrefix(): Promise<string> {
  const value = await vscode.window.showInputBox({
    title: `${TITLE}: Id prefix`,
    prompt: 'Agents are named PREFIX-1, PREFIX-2, …',
    value: 'agent',
    ignoreFocusOut: true,
    validateInput: (text) => {
      try {
        validateAgentId(`${text}-1`);
        return undefined;
      } catch (error) {
        return describeCause(error);
      }
    },
  });
  if (value === undefined) {
    throw new CancelledError(TITLE);
  }
  return value;
}
