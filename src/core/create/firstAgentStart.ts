import { readyStateFile } from '../agent';
import { untilAborted } from '../base/abort';
import { alongside, noTimings, timeStep } from '../base/stepTimings';
import { describeCause } from '../errors';
import type { ResolvedBase } from '../git/objectPool';
import type { RepoSetup } from '../setup/repoSetup';
import { reportSteps } from '../snapshot/buildSteps';
import { baseNote, OBJECTS_BASE, OBJECTS_COMPLETE, OBJECTS_STAGING } from '../snapshot/cloneFromObjects';
import { beginBoot, directBootCommand } from '../snapshot/agentBoot';
import { createAgentContainer, removeOnFailure } from './agentContainer';
import { agentIdentity, type StartPlan, type StarterDeps } from './agentStarter';
import { copySetupFiles } from './repoSetupSteps';

/** The first agent of a repository the pool has never seen, begun while the pool mirrors it. */
export interface FirstAgentStart {
  readonly plan: StartPlan;
  readonly sessionBranch: string;
  /** The pool's first clone of the repository, then its base branch and commit. */
  readonly fetched: Promise<ResolvedBase>;
  /** Once the base is known: its setup, and whether this agent makes its own clone (no install, no snapshot of it yet). */
  readonly decide: (base: ResolvedBase) => Promise<FirstAgentDecision>;
}

export interface FirstAgentDecision {
  readonly setup: RepoSetup;
  readonly ownClone: boolean;
}

/** What came of it: the agent is ready (`started`), or its container is gone and it starts as any other, from `base` with `setup`. */
export interface FirstAgentOutcome extends FirstAgentDecision {
  readonly base: ResolvedBase;
  readonly started: boolean;
}

/**
 * Starts the first agent of a repository without waiting for the pool or a
 * snapshot: its container, from the agents' image, is created and started
 * while the host's pool mirrors the repository, and its boot waits. Then the
 * pool's object files go in as they are (the archive API, as a snapshot's
 * builder gets them), with the base beside them (OBJECTS_BASE), and it makes
 * its own clone and sets up as an agent from a snapshot does: the same files,
 * branches, config and state file. It skips the image commit and the second
 * container a snapshot costs; the caller builds the snapshot afterwards, for
 * the agents that follow. When the base turns out to need a snapshot (an
 * install runs there) or to have one already, the container goes and the
 * caller starts the agent from the snapshot. A failed or cancelled mirror, or
 * any failure after the container exists, removes it.
 */
export async function startFirstAgent(deps: StarterDeps, start: FirstAgentStart): Promise<FirstAgentOutcome> {
  const { engine, log } = deps;
  const timings = deps.timings ?? noTimings;
  const { plan, sessionBranch } = start;
  const identity = agentIdentity(plan, { branch: plan.baseBranch || undefined }, sessionBranch);
  const cmd = directBootCommand({ sessionBranch, userName: plan.gitIdentity.name ?? '', userEmail: plan.gitIdentity.email ?? '' }, { objects: OBJECTS_STAGING, origin: plan.repoUrl });
  const spec = { identity, image: plan.image, env: plan.request.env, network: plan.network, limits: plan.limits, cmd };
  const made = { agentId: identity.id, containerId: await timeStep(timings, alongside('agent create'), () => createAgentContainer(engine, spec)) };
  let outcome: FirstAgentOutcome | undefined;
  await removeOnFailure(engine, log, made, async () => {
    const boot = await timeStep(timings, alongside('container start'), () => beginBoot(engine, made.containerId, plan.signal));
    const what = `creation of agent '${plan.id}'`;
    // The fetch may be shared with another create: this one stops waiting when it is cancelled.
    const base = await untilAborted(start.fetched, plan.signal, what);
    const decision = await untilAborted(start.decide(base), plan.signal, what);
    outcome = { ...decision, base, started: decision.ownClone };
    if (decision.ownClone) {
      await cloneAndSetUp(deps, { plan, containerId: made.containerId, sessionBranch, base, setup: decision.setup, boot: boot.output });
    }
  });
  if (!outcome?.started) {
    // Not this agent's own clone after all: its container (which has nothing of the repository yet) goes, and its name with it.
    await engine.removeContainer(made.containerId).catch((error: unknown) => log.error(`could not remove container ${made.containerId}: ${describeCause(error)}`));
  }
  return outcome as FirstAgentOutcome;
}

interface CloneStep {
  readonly plan: StartPlan;
  readonly containerId: string;
  readonly sessionBranch: string;
  readonly base: ResolvedBase;
  readonly setup: RepoSetup;
  readonly boot: Promise<string>;
}

/** Sends the pool's objects and the base into the booting container, waits for its clone and setup, and makes it a ready agent. */
async function cloneAndSetUp(deps: StarterDeps, step: CloneStep): Promise<void> {
  const { engine, pool, log, states } = deps;
  const timings = deps.timings ?? noTimings;
  const { plan, containerId, base, setup } = step;
  plan.report('checkout', `checking out ${base.branch} and creating branch ${step.sessionBranch}`);
  const files = await timeStep(timings, 'object files', () => pool.objectFiles(plan.repoUrl));
  const note = { name: OBJECTS_BASE, content: baseNote(base, JSON.stringify(readyStateFile(base))) };
  await timeStep(timings, 'transfer', () => engine.putHostFiles(containerId, { dir: OBJECTS_STAGING, files, notes: [note], completeMarker: OBJECTS_COMPLETE }));
  const transferred = performance.now();
  const output = await step.boot;
  // The boot's own steps (the clone), then the rest of its setup.
  timings('agent start', Math.max(0, performance.now() - transferred - reportSteps(output, timings)));
  await copySetupFiles(engine, log, { containerId, setup, from: plan.request.copyFrom });
  states.remember(containerId, readyStateFile(base));
  // Other windows and CLIs learn of the agent's readiness from the engine's events.
  await engine.announce(containerId);
}
