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
    const [capacity, containers, limits] = await Promise.all([this.engine.capacity(), this.engine.listContainers(LABEL.agent), Promise.all(requests.map((r) => this.limitsFor(r.limits)))]);
    // The engine's own figure, not the label: limits may have changed since creation.
    const running = await Promise.all(containers.filter((c) => c.State === 'running').map((c) => this.engine.inspectContainer(c.Id)));
    const reservedBytes = running.reduce((sum, info) => sum + (info?.HostConfig.Memory ?? 0), 0);
    // One figure per burst: the largest limit asked for (they are almost always the same).
    const memoryBytes = Math.max(...limits.map((l) => l.memoryBytes));
    checkAdmission({ count: requests.length, memoryBytes, reservedBytes, totalBytes: capacity.memoryBytes });
  }
}
