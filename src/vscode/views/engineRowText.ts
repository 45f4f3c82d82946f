import type { Agent } from '../../core/agent';
import type { EngineStatus } from '../../core/agentsModel';
import { formatBytes } from '../../core/limits/agentLimits';

/** What an engine's row shows (pure, so a unit test reads it): whether it answers, its agents, the memory their limits reserve of its total. */
export function engineRowText(input: {
  readonly name: string;
  readonly address: string;
  readonly status: EngineStatus;
  readonly agents: readonly Agent[];
  readonly unreachable: number;
  readonly totalBytes?: number;
}): { readonly description: string; readonly tooltip: string; readonly contextValue: string } {
  const { status, agents } = input;
  const count = (n: number): string => `${n} agent${n === 1 ? '' : 's'}`;
  if (status.kind === 'unavailable') {
    return {
      description: `not answering${input.unreachable > 0 ? ` · ${count(input.unreachable)} unreachable` : ''}`,
      tooltip: `${input.name} (${input.address}) does not answer: ${status.message}. Its agents come back when it does.`,
      contextValue: ';engine;unavailable;',
    };
  }
  const reserved = agents.filter((agent) => agent.state === 'ready' || agent.state === 'error').reduce((sum, agent) => sum + (agent.limits?.memoryBytes ?? 0), 0);
  const memory = input.totalBytes ? ` · ${formatBytes(reserved)} of ${formatBytes(input.totalBytes)}` : '';
  return {
    description: `${status.kind === 'unknown' ? 'connecting… · ' : ''}${count(agents.length)}${memory}`,
    tooltip: `${input.name} (${input.address})${input.totalBytes ? `: running agents' memory limits reserve ${formatBytes(reserved)} of its ${formatBytes(input.totalBytes)}` : ''}`,
    contextValue: ';engine;',
  };
}
