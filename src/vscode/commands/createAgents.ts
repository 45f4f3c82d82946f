import type { Agent } from '../../core/agent';
import { describeCause } from '../../core/errors';
import { validateAgentId } from '../../core/names';
import type { CommandContext } from './context';
import { createBurst } from './createBurst';
import { addRepositorySteps, requireTrustedWorkspace, type RepositoryChoice } from './createInputs';
import { BACK, inputStep, runSteps, type StepPlace, type StepResult } from './multiStepInput';

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
  const remembered = ctx.workspaceState.get<Partial<RememberedChoices>>(REMEMBERED_KEY) ?? {};
  let count = given.count ?? remembered.count ?? 3;
  let prefix = given.prefix ?? remembered.prefix ?? 'agent';
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
  const repository: RepositoryChoice = { repoUrl: given.repoUrl ?? '', baseBranch: given.baseBranch };
  if (given.repoUrl === undefined) {
    addRepositorySteps(steps, place, repository);
  }
  await runSteps(steps);
  const { repoUrl, baseBranch } = repository;
  await ctx.workspaceState.update(REMEMBERED_KEY, { count, prefix } satisfies RememberedChoices);
  return createBurst(ctx, { prefix, count, repoUrl, baseBranch, title: `Creating ${count} agents`, announceReady: true });
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
