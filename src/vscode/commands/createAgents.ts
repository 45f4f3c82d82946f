import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { isCancellation, describeCause } from '../../core/errors';
import { validateAgentId } from '../../core/names';
import { readSettings } from '../config';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { admitOrConfirm } from './admitAgents';
import { askBaseBranch, askRepository, freeIds, requireTrustedWorkspace } from './createInputs';
import { folderOfRepository } from '../workspaceRepo';
import { BACK, inputStep, runSteps, type StepPlace, type StepResult } from './multiStepInput';
import { showErrorWithSettings } from '../showError';

export interface CreateAgentsOptions {
  readonly count?: number;
  readonly prefix?: string;
  readonly repoUrl?: string;
  readonly baseBranch?: string;
}

const TITLE = 'Create Several Agents';

/**
 * Create Several Agents: a count, a prefix, the repository and its base
 * branch, in numbered steps with Back (the count and prefix of the last
 * burst in this workspace offered first); the agents are created
 * concurrently (gitiso.createConcurrency at a time), every row appears at once
 * in the creating state, and one failure does not stop the others.
 */
export async function createAgents(ctx: CommandContext, given: CreateAgentsOptions = {}): Promise<Agent[]> {
  requireTrustedWorkspace();
  const { model } = ctx.gitiso;
  const remembered = ctx.workspaceState.get<Partial<RememberedChoices>>(REMEMBERED_KEY) ?? {};
  let count = given.count ?? remembered.count ?? 3;
  let prefix = given.prefix ?? remembered.prefix ?? 'agent';
  let repoUrl = given.repoUrl ?? '';
  let baseBranch = given.baseBranch;
  // Only what was not given is asked, numbered among what is asked, with Back between the steps.
  const steps: (() => Promise<StepResult<unknown>>)[] = [];
  const totalSteps = (given.count === undefined ? 1 : 0) + (given.prefix === undefined ? 1 : 0) + (given.repoUrl === undefined ? 2 : 0);
  const place = (): StepPlace => ({ title: TITLE, step: steps.length + 1, totalSteps });
  if (given.count === undefined) {
    const at = place();
    steps.push(async () => {
      const chosen = await askCount(at, count);
      count = chosen === BACK ? count : chosen;
      return chosen;
    });
  }
  if (given.prefix === undefined) {
    const at = place();
    steps.push(async () => {
      const chosen = await askPrefix(at, prefix);
      prefix = chosen === BACK ? prefix : chosen;
      return chosen;
    });
  }
  if (given.repoUrl === undefined) {
    const repoAt = place();
    steps.push(async () => {
      const chosen = await askRepository(repoAt, repoUrl);
      repoUrl = chosen === BACK ? repoUrl : chosen;
      return chosen;
    });
    const branchAt = place();
    steps.push(async () => {
      const chosen = await askBaseBranch(repoUrl, branchAt);
      baseBranch = chosen === BACK ? baseBranch : chosen;
      return chosen;
    });
  }
  await runSteps(steps);
  await ctx.workspaceState.update(REMEMBERED_KEY, { count, prefix } satisfies RememberedChoices);
  const settings = readSettings();
  const ids = freeIds(new Set(model.agents.map((agent) => agent.id)), prefix, count);
  const copyFrom = await folderOfRepository(repoUrl);

  // The burst is admitted (or confirmed) as a whole, before anything is made.
  await admitOrConfirm(ctx, ids.map((id) => ({ id, repoUrl })));
  return withCancellableProgress({ title: `Creating ${count} agents` }, async (signal, progress) => {
    const created: Agent[] = [];
    const failed: string[] = [];
    await model.createMany(
      ids.map((id) => ({ id, repoUrl, baseBranch, image: settings.image, copyFrom })),
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
    } else if (!signal.aborted) {
      void vscode.window.showInformationMessage(`${created.length} agents are ready: ${created.map((agent) => agent.id).join(', ')}.`);
    }
    return created;
  });
}

/** What the next Create Several Agents offers first: the last count and prefix used in this workspace. */
interface RememberedChoices {
  readonly count: number;
  readonly prefix: string;
}

const REMEMBERED_KEY = 'gitiso.createAgents.last';

async function askCount(place: StepPlace, count: number): Promise<StepResult<number>> {
  const value = await inputStep(
    { ...place, title: `${place.title}: How many?` },
    { value: String(count), validate: (text) => (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 20 ? undefined : 'a number from 1 to 20') },
  );
  return value === BACK ? BACK : Number(value);
}

async function askPrefix(place: StepPlace, prefix: string): Promise<StepResult<string>> {
  return inputStep(
    { ...place, title: `${place.title}: Id prefix` },
    {
      prompt: 'Agents are named PREFIX-1, PREFIX-2, …',
      value: prefix,
      validate: (text) => {
        try {
          validateAgentId(`${text}-1`);
          return undefined;
        } catch (error) {
          return describeCause(error);
        }
      },
    },
  );
}
