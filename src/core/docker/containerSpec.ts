import type { ContainerCreateOptions } from './engine';
import { agentLabels, type AgentIdentity, RUN_DIR, WORKSPACE } from '../agent';
import { containerNameFor } from '../names';
import { budgetEnv, withBudgetFile, type AgentLimits } from '../limits/agentLimits';

export interface AgentContainerInput {
  readonly identity: AgentIdentity;
  /** What the container runs from: the requested image, or a snapshot of it. */
  readonly image: string;
  /** Plain settings only: never a credential (they show in `docker inspect`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly network?: string;
  /** Host folders to mount, `host:container:ro` (only the pool strategy's read-only pool). */
  readonly binds?: readonly string[];
  /** The container's command; by default it only stays alive. */
  readonly cmd?: readonly string[];
  /** What the agent may use; also told to it (environment and budget file). */
  readonly limits: AgentLimits;
}

/**
 * Agents come back after the engine restarts (a reboot, a Docker Desktop
 * update): their clone and work are in the container, and an agent the user
 * stopped stays stopped.
 */
export const AGENT_RESTART_POLICY = 'unless-stopped';

/** Labels that record an agent's limits, for admission control without an inspect per agent. */
export const LIMIT_LABEL = { memory: 'gitiso.limit.memory', cpus: 'gitiso.limit.cpus', pids: 'gitiso.limit.pids' } as const;

/**
 * The engine's create options for an agent's container: an init process that
 * reaps zombies and forwards signals, a command that keeps it alive, the
 * working tree at /workspace inside the container (no bind mount), and the
 * labels that make it an agent.
 */
export function agentContainerSpec(input: AgentContainerInput): ContainerCreateOptions {
  const { identity, limits } = input;
  return {
    name: containerNameFor(identity.id),
    Image: input.image,
    Hostname: identity.id.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 63),
    Cmd: withBudgetFile(input.cmd ?? ['sleep', 'infinity']),
    WorkingDir: WORKSPACE,
    Env: Object.entries({ ...input.env, ...budgetEnv(limits) }).map(([key, value]) => `${key}=${value}`),
    Labels: {
      ...agentLabels(identity),
      [LIMIT_LABEL.memory]: String(limits.memoryBytes),
      [LIMIT_LABEL.cpus]: String(limits.cpus),
      [LIMIT_LABEL.pids]: String(limits.pids),
    },
    HostConfig: {
      Init: true,
      RestartPolicy: { Name: AGENT_RESTART_POLICY },
      Memory: limits.memoryBytes,
      // No swap beyond the limit: an agent over it is stopped, not the machine slowed.
      MemorySwap: limits.memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      NetworkMode: input.network || undefined,
      Binds: input.binds?.length ? [...input.binds] : undefined,
      Tmpfs: { [RUN_DIR]: 'rw,nosuid,nodev,size=1m' },
    },
  };
}
