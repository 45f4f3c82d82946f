import { readyStateFile, WORKSPACE } from '../agent';
import { CancelledError, CreateFailedError, isCancellation } from '../errors';
import { cloneArgs } from '../git/cloneArgs';
import { CloneProgressParser } from '../git/cloneProgress';
import { gitFailure } from '../git/gitFailure';
import { isMissingLogin } from '../git/missingLogin';
import { identityConfig } from '../git/hostGit';
import { redactCredentials } from '../logger';
import { sessionBranchFor } from '../names';
import { agentIdentity, type AgentStarter, type StartPlan, type StarterDeps } from './agentStarter';
import { startClonedContainer } from './clonedContainer';

/** Shallow (`--depth`) and partial (`--filter`) clones. */
export interface RemoteCloneOptions {
  readonly depth?: number;
  readonly filter?: string;
}

/**
 * Each agent clones from the remote inside its own container; the base is
 * what the clone checked out. The agent has no credentials, so this reaches
 * public remotes only: a remote that wants a login fails with a pointer to
 * the strategies that fetch on the host.
 */
export class RemoteCloneStarter implements AgentStarter {
  constructor(
    private readonly deps: StarterDeps,
    private readonly options: RemoteCloneOptions = {},
  ) {}

  async start(plan: StartPlan): Promise<void> {
    const identity = agentIdentity(plan, { branch: plan.baseBranch || undefined }, sessionBranchFor(plan.id));
    await startClonedContainer(this.deps, plan, { identity, clone: (containerId) => this.clone(plan, { containerId, sessionBranch: identity.sessionBranch }) });
  }

  /** Clones the repository inside the container and branches off the session branch. */
  private async clone(plan: StartPlan, into: { readonly containerId: string; readonly sessionBranch: string }) {
    const { engine } = this.deps;
    const { containerId, sessionBranch } = into;
    const url = redactCredentials(plan.repoUrl);
    plan.report('cloning', `cloning ${url}`);
    const parser = new CloneProgressParser();
    const args = cloneArgs({ url: plan.repoUrl, directory: WORKSPACE, branch: plan.baseBranch || undefined, config: identityConfig(plan.gitIdentity), depth: this.options.depth, filter: this.options.filter });
    const clone = await engine
      .exec(containerId, ['git', ...args], {
        workdir: WORKSPACE,
        // No terminal is attached anyway; this makes a login prompt fail at once whatever the image's git does.
        env: { GIT_TERMINAL_PROMPT: '0' },
        signal: plan.signal,
        onStderr: (chunk) => {
          for (const step of parser.push(chunk.toString())) {
            plan.report('cloning', step.phase, step.percent);
          }
        },
      })
      .catch((error: unknown) => {
        throw isCancellation(error) ? new CancelledError(`creation of agent '${plan.id}'`) : error;
      });
    if (clone.exitCode !== 0 && isMissingLogin(clone.stderr)) {
      throw new CreateFailedError(
        `could not clone ${url} inside the agent: the remote wants a login, and agents hold no credentials. ` +
          `Create it with the snapshot or pool strategy (setting gitiso.createStrategy, or --strategy snapshot on the command line): they fetch on the host with its own credentials.`,
      );
    }
    if (clone.exitCode !== 0) {
      throw new CreateFailedError(`could not clone ${url}${plan.baseBranch ? ` at '${plan.baseBranch}'` : ''}: ${gitFailure(clone.stderr)}`);
    }

    plan.report('checkout', `creating branch ${sessionBranch}`);
    // One exec answers both: the commit, then the branch the clone checked out.
    const head = await engine.exec(containerId, ['git', 'rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'], { workdir: WORKSPACE, signal: plan.signal });
    const [baseCommit = '', resolvedBase = ''] = head.stdout.trim().split('\n');
    const checkout = await engine.exec(containerId, ['git', 'checkout', '-q', '-b', sessionBranch], { workdir: WORKSPACE, signal: plan.signal });
    if (head.exitCode !== 0 || checkout.exitCode !== 0) {
      throw new CreateFailedError(`could not create branch ${sessionBranch}: ${gitFailure(head.stderr + checkout.stderr)}`);
    }
    return readyStateFile({ branch: plan.baseBranch || resolvedBase, commit: baseCommit });
  }
}
