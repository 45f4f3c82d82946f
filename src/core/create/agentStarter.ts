import type { AgentIdentity, CreateStrategy } from '../agent';
import type { Engine } from '../docker/engine';
import type { GitIdentity } from '../git/hostGit';
import type { ObjectPool } from '../git/objectPool';
import type { AgentLimits } from '../limits/agentLimits';
import type { Logger } from '../logger';
import type { StepTimings } from '../base/stepTimings';
import type { ReadyStates } from '../readyStates';
import type { SetupSettings } from '../setup/repoSetup';
import type { SetupConsent } from '../setup/setupProposal';
import type { SnapshotStore } from '../snapshot/snapshotStore';
import type { CreateRequest, ReportProgress } from './createRequest';
import type { SetupSource } from './repoSetupSteps';

/** One agent to start, once the creator has checked and admitted it. */
export interface StartPlan {
  readonly id: string;
  readonly repoUrl: string;
  /** The base branch asked for; '' for the remote's default. */
  readonly baseBranch: string;
  /** The image asked for (a snapshot is made of it). */
  readonly image: string;
  readonly strategy: CreateStrategy;
  readonly gitIdentity: GitIdentity;
  readonly limits: AgentLimits;
  /** The network its container joins, checked before anything was made (src/core/network/agentNetwork.ts). */
  readonly network: string;
  readonly request: CreateRequest;
  readonly report: ReportProgress;
  readonly signal?: AbortSignal;
  /** Decides what the repository's `.gitiso.json` may ask (an install, files to copy). */
  readonly consent: SetupConsent;
}

/**
 * One way of giving an agent its clone (snapshot, clone from the pool, clone
 * from the remote). It learns the base, makes the container and leaves it
 * ready on the session branch; on failure or cancellation nothing is left.
 */
export interface AgentStarter {
  start(plan: StartPlan): Promise<void>;
}

/** The identity an agent's labels record, once its base is known (as far as it is). */
export function agentIdentity(plan: StartPlan, base: { readonly branch?: string; readonly commit?: string }, sessionBranch: string): AgentIdentity {
  return {
    id: plan.id,
    repoUrl: plan.repoUrl,
    baseBranch: base.branch ?? '',
    baseCommit: base.commit,
    sessionBranch,
    image: plan.image,
    strategy: plan.strategy,
    createdAt: new Date(),
  };
}

/** Where the plan's setup is read for: its repository, the user's settings and folder, and its consent. */
export function setupSource(plan: StartPlan, settings: SetupSettings): SetupSource {
  return { repoUrl: plan.repoUrl, settings, consent: plan.consent, copyFrom: plan.request.copyFrom };
}

/** What starting an agent asks of the engine. */
export type StarterEngine = Pick<Engine, 'createContainer' | 'startContainer' | 'removeContainer' | 'putHostFile' | 'putHostFiles' | 'putFile' | 'readFile' | 'exec' | 'attach' | 'demux' | 'announce'>;
/** What starting an agent asks of the host's object pool. */
export type StarterPool = Pick<ObjectPool, 'sync' | 'resolve' | 'resolveKnown' | 'readFile' | 'rootFiles' | 'bundle' | 'pathFor' | 'objectFiles'>;
/** What starting an agent asks of the snapshot images. */
export type StarterSnapshots = Pick<SnapshotStore, 'find' | 'findAncestor' | 'refreshInBackground' | 'ensure'>;

/** What the starters share: the engine, the host's pool and snapshots, and the user's settings. */
export interface StarterDeps {
  readonly engine: StarterEngine;
  readonly pool: StarterPool;
  readonly snapshots: StarterSnapshots;
  readonly states: ReadyStates;
  readonly log: Logger;
  /** The user's setup settings; a repository's `.gitiso.json` comes first. */
  readonly setupSettings: SetupSettings;
  /** How long the repository's install may run (in the agent, for the strategies without a snapshot). */
  readonly installTimeoutMs?: number;
  /** Told how long each step of a start took. */
  readonly timings?: StepTimings;
}
