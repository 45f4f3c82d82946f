import { type AgentIdentity, type AgentStateFile, STATE_FILE } from '../agent';
import { installTool } from '../codingAgents/toolInstall';
import { DEFAULT_INSTALL_TIMEOUT_SECONDS } from '../defaults';
import type { RepoSetup } from '../setup/repoSetup';
import { createAgentContainer, removeOnFailure } from './agentContainer';
import { setupSource, type StartPlan, type StarterDeps } from './agentStarter';
import { copySetupFiles, installIn, setupIn } from './repoSetupSteps';

export interface ClonedContainer {
  readonly identity: AgentIdentity;
  /** Host folders to mount read-only (the pool strategy's pool). */
  readonly binds?: string[];
  /** The setup when the host knows the base commit; read from the clone otherwise. */
  readonly setup?: RepoSetup;
  /** Clones into the started container and puts it on the session branch; says where it started. */
  clone(containerId: string): Promise<AgentStateFile>;
}

/**
 * The strategies without a snapshot: a container that only stays alive, then
 * the clone made in it, the setup's files and install (then the coding
 * agent's, when the create asks for it: without a snapshot, in each agent),
 * and the state file written with the archive API. Any failure removes the
 * container.
 */
export async function startClonedContainer(deps: StarterDeps, plan: StartPlan, spec: ClonedContainer): Promise<void> {
  const { engine, log, states, setupSettings, installTimeoutMs } = deps;
  plan.report('container', 'starting the container');
  const containerId = await createAgentContainer(engine, { identity: spec.identity, image: plan.image, env: plan.request.env, network: plan.network, limits: plan.limits, binds: spec.binds });
  await removeOnFailure(engine, log, { agentId: plan.id, containerId }, async () => {
    await engine.startContainer(containerId);
    const cloned = await spec.clone(containerId);
    // Known only from the clone here: a refused install or copy fails now, and the container goes.
    const setup = spec.setup ?? (await setupIn(engine, setupSource(plan, setupSettings), containerId));
    await copySetupFiles(engine, log, { containerId, setup, from: plan.request.copyFrom });
    const setupError = setup.install ? await installIn(engine, log, { containerId, install: setup.install, report: plan.report, signal: plan.signal, timeoutMs: installTimeoutMs }) : undefined;
    const tool = plan.request.toolInstall;
    if (tool) {
      plan.report('setup', `installing the coding agent '${tool.preset}'`);
      await installTool(engine, { containerId, tool, log, signal: plan.signal, timeoutMs: installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_SECONDS * 1000 });
    }
    const state = { ...cloned, ...(setupError ? { setupError } : {}) };
    await engine.putFile(containerId, STATE_FILE, JSON.stringify(state, null, 2) + '\n');
    states.remember(containerId, state);
  });
}
