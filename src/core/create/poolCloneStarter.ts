import { throwIfAborted } from '../base/abort';
import { readyStateFile, WORKSPACE } from '../agent';
import { CreateFailedError } from '../errors';
import { gitFailure } from '../git/gitFailure';
import { sessionBranchFor } from '../names';
import { agentIdentity, setupSource, type AgentStarter, type StartPlan, type StarterDeps } from './agentStarter';
import { startClonedContainer } from './clonedContainer';
import { setupAt } from './repoSetupSteps';
import { fetchBase } from './startingPoint';

/** Where the pool strategy mounts the repository's mirror, read-only. */
const POOL_MOUNT = '/gitiso/pool';

/**
 * The clone: --shared borrows the mounted pool's objects (--local would
 * hard-link, which fails across the mount), then the agent looks like any
 * other: origin is the real URL, the base branch exists locally.
 * $1 session branch, $2 user.name, $3 user.email, $4 origin URL, $5 base branch, $6 base commit.
 */
const POOL_CLONE_SCRIPT = `set -e
git clone -q --shared --no-checkout "${POOL_MOUNT}" "${WORKSPACE}"
cd "${WORKSPACE}"
git remote set-url origin "$4"
git checkout -q -B "$5" "$6"
git config "branch.$5.remote" origin
git config "branch.$5.merge" "refs/heads/$5"
git checkout -q -b "$1"
if [ -n "$2" ]; then git config user.name "$2"; fi
if [ -n "$3" ]; then git config user.email "$3"; fi`;

/** Each agent clones with `--shared` from the host's pool, mounted read-only (local engines only: the pool is a host folder). */
export class PoolCloneStarter implements AgentStarter {
  constructor(private readonly deps: StarterDeps) {}

  async start(plan: StartPlan): Promise<void> {
    const { engine, pool, setupSettings } = this.deps;
    const base = await fetchBase(pool, { repoUrl: plan.repoUrl, baseBranch: plan.baseBranch, report: plan.report, signal: plan.signal });
    throwIfAborted(plan.signal, `creation of agent '${plan.id}'`);
    // Before the container: a refused install or copy fails here, leaving nothing.
    const setup = await setupAt(pool, setupSource(plan, setupSettings), base.commit);
    const identity = agentIdentity(plan, base, sessionBranchFor(plan.id));
    await startClonedContainer(this.deps, plan, {
      identity,
      binds: [`${pool.pathFor(plan.repoUrl)}:${POOL_MOUNT}:ro`],
      setup,
      clone: async (containerId) => {
        plan.report('cloning', 'cloning from the pool');
        const { name = '', email = '' } = plan.gitIdentity;
        const clone = await engine.exec(containerId, ['sh', '-c', POOL_CLONE_SCRIPT, 'gitiso-pool-clone', identity.sessionBranch, name, email, identity.repoUrl, identity.baseBranch, base.commit], {
          workdir: WORKSPACE,
          signal: plan.signal,
        });
        if (clone.exitCode !== 0) {
          throw new CreateFailedError(`could not clone from the pool (the pool strategy needs a local engine): ${gitFailure(clone.stderr)}`);
        }
        return readyStateFile({ branch: identity.baseBranch, commit: base.commit });
      },
    });
  }
}
