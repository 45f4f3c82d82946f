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
  /** The network the agent joins (its id or name; see src/core/network/agentNetwork.ts). */
  readonly network: string;
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

/**
 * What root in an agent may still do: own, chmod and read any file of its
 * container (git, npm ci and package managers unpacking archives), switch
 * user (apt's sandbox, npm's scripts), signal its processes and bind ports
 * below 1024 (dev servers). The engine's other defaults go: raw sockets
 * (NET_RAW: spoofed packets and ARP on the bridge), device nodes (MKNOD), the
 * audit log, file capabilities (SETFCAP, SETPCAP) and chroot.
 */
export const AGENT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'] as const;

type HostConfig = NonNullable<ContainerCreateOptions['HostConfig']>;

/**
 * The confinement of every container that runs a repository's code (agents
 * and snapshot builds): only AGENT_CAPABILITIES, and no way to gain more
 * (no-new-privileges: setuid and file-capability binaries run without them).
 */
export function confinement(): Pick<HostConfig, 'CapDrop' | 'CapAdd' | 'SecurityOpt'> {
  return { CapDrop: ['ALL'], CapAdd: [...AGENT_CAPABILITIES], SecurityOpt: ['no-new-privileges'] };
}

/** Labels that record an agent's limits, for admission control without an inspect per agent. */
export const LIMIT_LABEL = { memory: 'gitiso.limit.memory', cpus: 'gitiso.limit.cpus', pids: 'gitiso.limit.pids' } as const;

/**
 * The engine's create options for an agent's container: an init process that
 * reaps zombies and forwards signals, a command that keeps it alive, the
 * working tree at /workspace inside the container (no bind mount), the
 * labels that make it an agent, and the confinement of untrusted code.
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
      NetworkMode: input.network,
      Binds: input.binds?.length ? [...input.binds] : undefined,
      Tmpfs: { [RUN_DIR]: 'rw,nosuid,nodev,size=1m' },
      ...confinement(),
    },
  };
}
