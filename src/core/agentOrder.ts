import type { Agent } from './agent';

/** Compares ids so that `agent-2` comes before `agent-10`. */
const idOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * The order the UI lists agents in: oldest first, by when their create started
 * (`startedAt`, for the ones this process created: a batch shares one start, so
 * its agents keep their ids' order while and after they are created), else by
 * their creation time, then by id. Stable whatever order the engine lists them in. Pure.
 */
export function sortAgents(agents: readonly Agent[], startedAt: ReadonlyMap<string, number> = new Map()): Agent[] {
  const timeOf = (agent: Agent): number => startedAt.get(agent.id) ?? agent.createdAt.getTime();
  return [...agents].sort((a, b) => timeOf(a) - timeOf(b) || idOrder.compare(a.id, b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * What an agent this process is creating shows, given what the engine says of
 * it: a container created but not started yet (or between its boot steps) is
 * listed as stopped by the engine, yet it is still being created. Pure.
 */
export function mergeCreating(engineAgent: Agent): Agent {
  return engineAgent.state === 'stopped' ? { ...engineAgent, state: 'creating', reason: undefined } : engineAgent;
}
