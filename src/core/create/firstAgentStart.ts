import { readyStateFile, type AgentIdentity } from '../agent';
import { noTimings, timeStep } from '../base/stepTimings';
import type { ResolvedBase } from '../git/objectPool';
import type { RepoSetup } from '../setup/repoSetup';
import { reportSteps } from '../snapshot/buildSteps';
import { OBJECTS_COMPLETE, OBJECTS_STAGING } from '../snapshot/cloneFromObjects';
import { directBootCommand, startAndAwaitBoot } from '../snapshot/agentBoot';
import { createAgentContainer, removeOnFailure } from './agentContainer';
import type { StartPlan, StarterDeps } from './agentStarter';
import { copySetupFiles } from './repoSetupSteps';

/** The first agent of a repository, before any snapshot of it exists. */
export interface FirstAgentStart {
  readonly plan: StartPlan;
  readonly identity: AgentIdentity;
  readonly base: ResolvedBase;
  readonly setup: RepoSetup;
}

/**
 * Starts the first agent of a repository without waiting for a snapshot: its
 * container, from the agents' image, gets the pool's object files as they are
 * (the archive API, as a snapshot's builder does) and makes its own clone as
 * it boots, then sets up as an agent from a snapshot does: the same files,
 * branches, config and state file. It skips the image commit and the second
 * container a snapshot costs; the caller builds the snapshot afterwards, for
 * the agents that follow. Only without an install (that runs in a snapshot).
 */
export async function startFirstAgent(deps: StarterDeps, start: FirstAgentStart): Promise<void> {
  const { engine, pool, log, states } = deps;
  const timings = deps.timings ?? noTimings;
  const { plan, identity, base, setup } = start;
  const files = await timeStep(timings, 'object files', () => pool.objectFiles(plan.repoUrl));
  const cmd = directBootCommand(
    {
      sessionBranch: identity.sessionBranch,
      userName: plan.gitIdentity.name ?? '',
      userEmail: plan.gitIdentity.email ?? '',
      bundlePath: '',
      bundleRef: '',
      baseBranch: base.branch,
      baseCommit: base.commit,
      stateJson: JSON.stringify(readyStateFile(base)),
    },
    { objects: OBJECTS_STAGING, origin: plan.repoUrl },
  );
  const spec = { identity, image: plan.image, env: plan.request.env, network: plan.network, limits: plan.limits, cmd };
  const containerId = await timeStep(timings, 'agent create', () => createAgentContainer(engine, spec));
  await removeOnFailure(engine, log, { agentId: identity.id, containerId }, async () => {
    plan.report('checkout', `checking out ${base.branch} and creating branch ${identity.sessionBranch}`);
    // The objects go in as the container boots; its boot waits for the last of them.
    const booted = performance.now();
    const transfer = engine.putHostFiles(containerId, { dir: OBJECTS_STAGING, files, completeMarker: OBJECTS_COMPLETE }).then(() => performance.now() - booted);
    transfer.catch(() => undefined); // awaited below
    const [output, transferMs] = await Promise.all([startAndAwaitBoot(engine, containerId, plan.signal), transfer]);
    // The boot waits for the transfer (which the engine serves once the container has started), then makes the clone (its own steps), then the rest.
    timings('container start + transfer', transferMs);
    timings('agent start', Math.max(0, performance.now() - booted - transferMs - reportSteps(output, timings)));
    await copySetupFiles(engine, log, { containerId, setup, from: plan.request.copyFrom });
    states.remember(containerId, readyStateFile(base));
    // Other windows and CLIs learn of the agent's readiness from the engine's events.
    await engine.announce(containerId);
  });
}
