import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import type { ToolInstall } from '../../core/codingAgents/toolInstall';
import { describeCause, isCancellation } from '../../core/errors';
import { readSettings } from '../config';
import { withCancellableProgress } from '../progress';
import { showErrorWithSettings } from '../showError';
import { folderOfRepository } from '../workspaceRepo';
import { placeOrConfirm } from './admitAgents';
import type { CommandContext } from './context';
import { freeIds } from './createInputs';

export interface Burst {
  /** The agents are PREFIX-1, PREFIX-2, … (the first free numbers). */
  readonly prefix: string;
  readonly count: number;
  readonly repoUrl: string;
  readonly baseBranch?: string;
  /** The progress notification's title. */
  readonly title: string;
  /** Also says so when every agent is ready (Create Several Agents; New Task says what it does next instead). */
  readonly announceReady?: boolean;
  /** The chosen coding agent's install (New Task), run once in the agents' snapshot. */
  readonly toolInstall?: ToolInstall;
  /** The engine to create on, or ANY_ENGINE; with several engines and none given, any. */
  readonly engine?: string;
}

/**
 * Creates a burst of agents as Create Several Agents and New Task do: admitted
 * (or confirmed) as a whole before anything is made, gitiso.createConcurrency
 * at a time, under a cancellable progress that counts them; one failure does
 * not stop the others, and the failures are told at the end. Returns the
 * agents made, in the order of their ids.
 */
export async function createBurst(ctx: CommandContext, burst: Burst): Promise<Agent[]> {
  const { count, repoUrl, baseBranch } = burst;
  const settings = readSettings();
  const ids = freeIds(new Set(ctx.gitiso.model.agents.map((agent) => agent.id)), burst.prefix, count);
  const copyFrom = await folderOfRepository(repoUrl);
  const { engine, said } = await placeOrConfirm(ctx, ids.map((id) => ({ id, repoUrl })), burst.engine);
  return withCancellableProgress({ title: said ? `${burst.title} ${said}` : burst.title }, async (signal, progress) => {
    const created: Agent[] = [];
    const failed: string[] = [];
    await engine.model.createMany(
      ids.map((id) => ({ id, repoUrl, baseBranch, image: settings.image, copyFrom, toolInstall: burst.toolInstall })),
      {
        signal,
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
    if (failed.length > 0) {
      void showErrorWithSettings(`gitiso: ${failed.length} of ${count} agents could not be created: ${failed.join('; ')}`, 'Show Log').then((choice) => {
        if (choice === 'Show Log') {
          ctx.log.show();
        }
      });
    } else if (burst.announceReady && !signal.aborted) {
      void vscode.window.showInformationMessage(`${created.length} agents are ready: ${created.map((agent) => agent.id).join(', ')}.`);
    }
    // In the order of their ids, whichever was ready first.
    return ids.flatMap((id) => created.filter((agent) => agent.id === id));
  });
}
