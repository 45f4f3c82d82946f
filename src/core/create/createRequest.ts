import type { Agent, CreateStrategy } from '../agent';
import type { ToolInstall } from '../codingAgents/toolInstall';
import type { AgentLimits } from '../limits/agentLimits';
import type { SetupConsent } from '../setup/setupProposal';

/** What a caller asks for: one agent. */
export interface CreateRequest {
  readonly id: string;
  readonly repoUrl: string;
  /** Branch to start from; the remote's default when absent. */
  readonly baseBranch?: string;
  readonly image?: string;
  /** Plain settings for the container; never credentials. */
  readonly env?: Readonly<Record<string, string>>;
  /** Overrides the creator's strategy for this agent. */
  readonly strategy?: CreateStrategy;
  /** The host folder the setup's files to copy (such as `.env`) are taken from; nothing is copied when absent. */
  readonly copyFrom?: string;
  /** Overrides the default limits for this agent. */
  readonly limits?: Partial<AgentLimits>;
  /**
   * The coding agent's install (from the preset the user chose, never from the
   * repository): run after the repository's, once per snapshot.
   */
  readonly toolInstall?: ToolInstall;
}

export type CreatePhase = 'checking' | 'image' | 'fetching' | 'snapshot' | 'container' | 'cloning' | 'checkout' | 'setup' | 'ready';

export interface CreateProgress {
  readonly agentId: string;
  readonly phase: CreatePhase;
  readonly message: string;
  /** Percentage within the phase, where git or the engine tells it. */
  readonly percent?: number;
}

/** How the steps of one creation say where they are. */
export type ReportProgress = (phase: CreatePhase, message: string, percent?: number) => void;

export interface CreateHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: CreateProgress) => void;
  /** Create even when the agents' memory limits do not fit the engine's memory. */
  readonly force?: boolean;
  /** Decides what a repository's `.gitiso.json` may ask (an install, files to copy); the core's policy when absent. */
  readonly consent?: SetupConsent;
}

export interface CreateManyHooks extends CreateHooks {
  /** How many agents are made at once; DEFAULT_CREATE_CONCURRENCY when absent. */
  readonly concurrency?: number;
  /** Told as each agent is made or has failed. */
  readonly onSettled?: (outcome: CreateOutcome) => void;
}

/** How many agents a burst creates at once unless told otherwise (the CLI, the VS Code setting's default). */
export const DEFAULT_CREATE_CONCURRENCY = 3;

/** The outcome of one agent of a createMany: the agent, or why it failed (nothing of it is left). */
export type CreateOutcome = { readonly id: string; readonly agent: Agent } | { readonly id: string; readonly error: Error };
