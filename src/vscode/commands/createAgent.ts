import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import type { CreatePhase, CreateRequest } from '../../core/create/createRequest';
import { readSettings } from '../config';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { ANY_ENGINE, placeOrConfirm } from './admitAgents';
import { askEngine } from './askEngine';
import { askAgentId, askBaseBranch, askRepository, requireTrustedWorkspace } from './createInputs';
import { folderOfRepository } from '../workspaceRepo';
import { BACK, runSteps, type StepPlace, type StepResult } from './multiStepInput';

/**
 * Create Agent: asks for the repository, base branch and id (or takes them as
 * an argument, for scripts and tests), then creates the agent under a
 * cancellable progress notification that shows each phase and git's percentage.
 */
export async function createAgent(ctx: CommandContext, given?: Partial<CreateRequest> & { readonly engine?: string }): Promise<Agent> {
  requireTrustedWorkspace();
  const { model } = ctx.gitiso;
  let repoUrl = given?.repoUrl ?? '';
  let baseBranch = given?.baseBranch;
  let id = given?.id ?? '';
  // Only what was not given is asked, numbered among what is asked, with Back between the steps.
  const steps: (() => Promise<StepResult<unknown>>)[] = [];
  let engineName = given?.engine ?? (ctx.gitiso.engines.length > 1 ? '' : ANY_ENGINE);
  const totalSteps = (given?.repoUrl ? 0 : 2) + (given?.id ? 0 : 1) + (engineName ? 0 : 1);
  const place = (): StepPlace => ({ title: 'Create Agent', step: steps.length + 1, totalSteps });
  if (!given?.repoUrl) {
    const repoPlace = place();
    steps.push(async () => {
      const chosen = await askRepository(repoPlace, repoUrl);
      repoUrl = chosen === BACK ? repoUrl : chosen;
      return chosen;
    });
    const branchPlace = place();
    steps.push(async () => {
      const chosen = await askBaseBranch(repoUrl, branchPlace);
      baseBranch = chosen === BACK ? baseBranch : chosen;
      return chosen;
    });
  }
  if (!given?.id) {
    const idPlace = place();
    steps.push(async () => {
      const chosen = await askAgentId(model.agents, idPlace);
      id = chosen === BACK ? id : chosen;
      return chosen;
    });
  }
  if (!engineName) {
    const enginePlace = place();
    steps.push(async () => {
      const chosen = await askEngine(ctx, enginePlace);
      engineName = chosen === BACK ? engineName : chosen;
      return chosen;
    });
  }
  await runSteps(steps);
  const copyFrom = await folderOfRepository(repoUrl);
  const request: CreateRequest = { id, repoUrl, baseBranch, image: given?.image ?? readSettings().image, env: given?.env, limits: given?.limits, copyFrom };

  const { engine, said } = await placeOrConfirm(ctx, [request], engineName);
  const agent = await withCancellableProgress({ title: `Creating agent ${id}${said ? ` ${said}` : ''}` }, (signal, progress) => {
    let reported = 0;
    return engine.model.create(request, {
      signal,
      force: true, // admitted, or confirmed by the user, just now
      onProgress: (step) => {
        // Notification progress adds increments; report git's percentage as a share of the bar.
        const target = step.phase === 'cloning' && step.percent !== undefined ? 10 + Math.round(step.percent * 0.8) : PHASE_SHARE[step.phase];
        const increment = Math.max(0, target - reported);
        reported = Math.max(reported, target);
        progress.report({ message: `${step.message}${step.percent === undefined ? '' : ` ${step.percent}%`}`, increment });
      },
    });
  });
  ctx.log.info(`agent '${agent.id}' is ready on ${agent.sessionBranch}`);
  void vscode.window.showInformationMessage(`Agent ${agent.id} is ready on ${agent.sessionBranch}.`, 'Open Terminal').then((choice) => {
    if (choice === 'Open Terminal') {
      void vscode.commands.executeCommand('gitiso.openTerminal', agent.id);
    }
  });
  return agent;
}

/**
 * Create Agent Here, on an engine's row: Create Agent on that engine. Scripts
 * and tests may pass the request after the row (a tree passes only the row).
 */
export function createAgentHere(ctx: CommandContext, row?: { readonly engineName?: string }, given?: Partial<CreateRequest>): Promise<Agent> {
  if (!row?.engineName) {
    return createAgent(ctx);
  }
  return createAgent(ctx, { ...(given && !Array.isArray(given) ? given : {}), engine: row.engineName });
}

const PHASE_SHARE: Record<CreatePhase, number> = { checking: 2, image: 5, fetching: 8, snapshot: 10, container: 10, cloning: 10, checkout: 80, setup: 90, ready: 100 };
