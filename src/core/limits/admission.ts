import { LABEL } from '../agent';
import type { Engine } from '../docker/engine';
import { checkAdmission, validateLimits, type AgentLimits } from './agentLimits';

/**
 * Decides each new agent's limits and whether they fit: the memory limits of
 * the agents asked for, with those of running agents, may not exceed the
 * engine's memory (AdmissionError says by how much).
 */
export class Admission {
  constructor(
    private readonly engine: Pick<Engine, 'capacity' | 'listContainers' | 'inspectContainer'>,
    private readonly defaults: Partial<AgentLimits> = {},
  ) {}

  /** The limits asked for over the defaults over DEFAULT_LIMITS; CPUs no more than the engine has. */
  async limitsFor(requested: Partial<AgentLimits> = {}): Promise<AgentLimits> {
    const limits = validateLimits({ ...this.defaults, ...requested });
    const { cpus } = await this.engine.capacity();
    return cpus > 0 && limits.cpus > cpus ? { ...limits, cpus } : limits;
  }

  /** Refuses (AdmissionError) agents whose memory limits do not fit beside the running agents'; `force` skips the check. */
  async admit(requests: readonly { readonly limits?: Partial<AgentLimits> }[], force = false): Promise<void> {
    if (force || requests.length === 0) {
      return;
    }
    const [memory, memoryBytes] = await Promise.all([this.memory(), this.memoryAskedFor(requests)]);
    checkAdmission({ count: requests.length, memoryBytes, ...memory });
  }

  /** The memory limit the largest of these agents would get (one figure per burst: they are almost always the same). */
  async memoryAskedFor(requests: readonly { readonly limits?: Partial<AgentLimits> }[]): Promise<number> {
    const limits = await Promise.all(requests.map((r) => this.limitsFor(r.limits)));
    return Math.max(0, ...limits.map((l) => l.memoryBytes));
  }

  /** The engine's memory, and how much of it the running agents' limits reserve (the engine's own figures, not labels: limits may have changed since creation). */
  async memory(): Promise<{ reservedBytes: number; totalBytes: number }> {
    const [capacity, containers] = await Promise.all([this.engine.capacity(), this.engine.listContainers(LABEL.agent)]);
    const running = await Promise.all(containers.filter((c) => c.State === 'running').map((c) => this.engine.inspectContainer(c.Id)));
    return { reservedBytes: running.reduce((sum, info) => sum + (info?.HostConfig.Memory ?? 0), 0), totalBytes: capacity.memoryBytes };
  }
}
