import type { AgentLimits } from './limits/agentLimits';
import { refNameProblem } from './names';
import { formatOwner, isAbandoned, OWNER_LABEL, parseOwner, type Liveness } from './ownership';
import { GITISO_VERSION } from './version';

/**
 * What an agent is, as the engine remembers it. Labels are the source of truth:
 * everything here is rebuilt from a container's labels and its small state file,
 * so a restart of VS Code or the CLI loses nothing.
 */
export type AgentState = 'creating' | 'ready' | 'stopped' | 'error';

/**
 * How an agent gets its clone: from a snapshot image that holds it as a shared
 * layer (default); cloned with --shared from the host's pool, mounted read-only
 * (local engines); or cloned from the remote inside the container.
 */
export type CreateStrategy = 'snapshot' | 'pool' | 'remote';
export const CREATE_STRATEGIES: readonly CreateStrategy[] = ['snapshot', 'pool', 'remote'];


/** Label keys. `gitiso.agent` marks a container as an agent. */
export const LABEL = {
  agent: 'gitiso.agent',
  repo: 'gitiso.repo',
  baseBranch: 'gitiso.base-branch',
  baseCommit: 'gitiso.base-commit',
  strategy: 'gitiso.strategy',
  image: 'gitiso.image',
  sessionBranch: 'gitiso.session-branch',
  created: 'gitiso.created',
  version: 'gitiso.version',
} as const;

export interface AgentIdentity {
  readonly id: string;
  readonly repoUrl: string;
  /** The branch the agent started from ('' while a remote clone has not told us the remote's default yet). */
  readonly baseBranch: string;
  /** The commit the session branch started at, once known (before the container exists with the snapshot strategy). */
  readonly baseCommit?: string;
  readonly sessionBranch: string;
  /** The image the user asked for (a snapshot agent runs from a snapshot of it). */
  readonly image: string;
  readonly strategy: CreateStrategy;
  readonly createdAt: Date;
}

/** An agent as the engine tells it: its identity (from labels), its container and its state. */
export interface Agent extends AgentIdentity {
  readonly containerId: string;
  readonly gitisoVersion: string;
  readonly state: AgentState;
  /** Why the agent is in the error state, or how it stopped. */
  readonly reason?: string;
  /** Why the repository's setup (its install) failed; the agent is ready nonetheless. */
  readonly setupError?: string;
  /** The limits it was created with (absent for agents made before limits existed). */
  readonly limits?: AgentLimits;
}

/** Agents whose container runs (ready, or ready with an error): what execs in agents need. */
export function isRunning(agent: Pick<Agent, 'state'>): boolean {
  return agent.state === 'ready' || agent.state === 'error';
}

export function agentLabels(identity: AgentIdentity): Record<string, string> {
  return {
    [LABEL.agent]: identity.id,
    [LABEL.repo]: identity.repoUrl,
    [LABEL.baseBranch]: identity.baseBranch,
    [LABEL.baseCommit]: identity.baseCommit ?? '',
    [LABEL.sessionBranch]: identity.sessionBranch,
    [LABEL.image]: identity.image,
    [LABEL.strategy]: identity.strategy,
    [LABEL.created]: identity.createdAt.toISOString(),
    [LABEL.version]: GITISO_VERSION,
    [OWNER_LABEL]: formatOwner(),
  };
}

/** Reads an agent's identity back from labels; undefined when they are not an agent's. */
export function identityFromLabels(labels: Record<string, string> | undefined): (AgentIdentity & { gitisoVersion: string }) | undefined {
  const id = labels?.[LABEL.agent];
  if (!labels || !id) {
    return undefined;
  }
  const created = new Date(labels[LABEL.created] ?? '');
  return {
    id,
    repoUrl: labels[LABEL.repo] ?? '',
    baseBranch: labels[LABEL.baseBranch] ?? '',
    baseCommit: labels[LABEL.baseCommit] || undefined,
    sessionBranch: labels[LABEL.sessionBranch] ?? '',
    image: labels[LABEL.image] ?? '',
    strategy: (CREATE_STRATEGIES as readonly string[]).includes(labels[LABEL.strategy] ?? '') ? (labels[LABEL.strategy] as CreateStrategy) : 'snapshot',
    createdAt: Number.isNaN(created.getTime()) ? new Date(0) : created,
    gitisoVersion: labels[LABEL.version] ?? '',
  };
}

/**
 * Written into the container (STATE_FILE) when creation finishes: what only the
 * clone can tell (the resolved base branch and commit) and that it is ready.
 */
export interface AgentStateFile {
  readonly state: 'ready' | 'error';
  readonly baseBranch: string;
  readonly baseCommit: string;
  readonly readyAt: string;
  readonly error?: string;
  readonly setupError?: string;
}

/** The state file of an agent made ready now, on `baseBranch` at `baseCommit` (with why its setup failed, if it did). */
export function readyStateFile(base: { readonly branch: string; readonly commit: string }, setupError?: string): AgentStateFile {
  return { state: 'ready', baseBranch: base.branch, baseCommit: base.commit, readyAt: new Date().toISOString(), ...(setupError ? { setupError } : {}) };
}

export const STATE_DIR = '/etc/gitiso';
export const STATE_FILE = `${STATE_DIR}/state.json`;
export const WORKSPACE = '/workspace';
/** A tmpfs in every agent: what lives here (the dev server's pid) is forgotten when the container stops, as its processes are. */
export const RUN_DIR = '/run/gitiso';

/** Texts of a state file (errors) are shown to the user: no longer than this. */
const MAX_STATE_TEXT = 2_000;

/**
 * Reads a state file. The agent can write anything there: a file that is not
 * exactly what gitiso writes (types, a branch name git accepts, a hex commit)
 * reads as "not ready yet", and only the known fields are kept.
 */
export function parseStateFile(text: string | undefined): AgentStateFile | undefined {
  if (!text) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // A torn or foreign file reads as "not ready yet".
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const { state, baseBranch = '', baseCommit, readyAt = '', error, setupError } = value as Record<string, unknown>;
  const validBranch = typeof baseBranch === 'string' && baseBranch.length <= 255 && (baseBranch === '' || refNameProblem(baseBranch) === undefined);
  const validCommit = typeof baseCommit === 'string' && /^[0-9a-f]{0,64}$/.test(baseCommit);
  const texts = [readyAt, error, setupError].every((field) => field === undefined || typeof field === 'string');
  if ((state !== 'ready' && state !== 'error') || !validBranch || !validCommit || !texts) {
    return undefined;
  }
  return {
    state,
    baseBranch: baseBranch as string,
    baseCommit: baseCommit as string,
    readyAt: shown(readyAt as string),
    ...(error !== undefined ? { error: shown(error as string) } : {}),
    ...(setupError !== undefined ? { setupError: shown(setupError as string) } : {}),
  };
}

/** A text from the agent, made safe to show: cut short, control characters (terminal escapes) blanked. */
function shown(text: string): string {
  let out = '';
  for (const char of text.slice(0, MAX_STATE_TEXT)) {
    const code = char.charCodeAt(0);
    out += (code < 32 && char !== '\n' && char !== '\t') || (code >= 127 && code < 160) ? ' ' : char;
  }
  return out;
}

/** The container facts that decide an agent's state. */
export interface ContainerFacts {
  readonly running: boolean;
  readonly status: string;
  readonly oomKilled?: boolean;
  /** Created and never started. */
  readonly neverStarted?: boolean;
  /** The process that was creating it has ended (see creationAbandoned). */
  readonly creatorGone?: boolean;
}

/** The reason of an agent whose container the engine killed at its memory limit. */
export const OOM_KILLED_REASON = 'killed by the engine: out of memory';

/** The reason of an agent whose creator ended before it was ready. */
export const INTERRUPTED_REASON = 'its creation was interrupted (the process creating it ended): remove it and create it again';

/**
 * An agent still creating after this long is not being created any more,
 * whoever its creator was (one on another host cannot be asked).
 */
export const CREATION_STALE_MS = 6 * 60 * 60_000;

/** Whether the process creating the agent with these labels has ended (or it has been too long). Pure. */
export function creationAbandoned(labels: Record<string, string> | undefined, world: Liveness): boolean {
  const created = Date.parse(labels?.[LABEL.created] ?? '') || 0;
  return isAbandoned({ owner: parseOwner(labels?.[OWNER_LABEL]), since: created, staleAfterMs: CREATION_STALE_MS }, world);
}

/**
 * A half-made agent: no state file (the create writes it last), and its
 * creator is gone, so nothing will ever finish it.
 */
export function isHalfMade(container: ContainerFacts, stateFile: AgentStateFile | undefined): boolean {
  return !stateFile && container.creatorGone === true && (container.running || container.neverStarted === true);
}

export function agentState(container: ContainerFacts, stateFile: AgentStateFile | undefined): { state: AgentState; reason?: string } {
  if (container.oomKilled) {
    return { state: 'error', reason: OOM_KILLED_REASON };
  }
  if (isHalfMade(container, stateFile)) {
    return { state: 'error', reason: INTERRUPTED_REASON };
  }
  // Made but not started yet, by a process that is still at it (another window, the CLI): being created, not stopped.
  if (!container.running && container.neverStarted && container.creatorGone === false && !stateFile) {
    return { state: 'creating' };
  }
  if (!container.running) {
    return { state: 'stopped', reason: container.status };
  }
  if (!stateFile) {
    return { state: 'creating' };
  }
  if (stateFile.state === 'error') {
    return { state: 'error', reason: stateFile.error ?? 'unknown error' };
  }
  if (stateFile.setupError) {
    return { state: 'ready', reason: `setup failed: ${stateFile.setupError}` };
  }
  return { state: 'ready' };
}
