import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
export { isRunning } from '../../core/agent';
import { CancelledError, GitisoError } from '../../core/errors';
import type { Gitiso } from '../composition';

/** A tree row, an agent id, or nothing (then the user picks). */
export type AgentTarget = { readonly agent: Agent } | string | undefined;

function idOf(target: AgentTarget): string | undefined {
  return typeof target === 'string' ? target : target?.agent.id;
}

/** The agent a command acts on: the clicked row, the given id, or one picked from a list. */
export async function pickAgent(gitiso: Gitiso, target: AgentTarget, title: string, filter: (agent: Agent) => boolean = () => true): Promise<Agent> {
  const id = idOf(target);
  if (id) {
    return findAgent(gitiso, id);
  }
  const [agent] = await pickFromList(gitiso, title, filter, false);
  if (!agent) {
    throw new CancelledError(title);
  }
  return agent;
}

/** For commands on a multi-selection: every selected row, else the clicked one, else a multi-pick. */
export async function pickAgents(gitiso: Gitiso, target: AgentTarget | readonly string[], selected: readonly { agent: Agent }[] | undefined, title: string): Promise<Agent[]> {
  if (selected && selected.length > 0) {
    return selected.map((item) => item.agent);
  }
  if (Array.isArray(target)) {
    return Promise.all(target.map((id: string) => findAgent(gitiso, id)));
  }
  const id = idOf(target as AgentTarget);
  if (id) {
    return [await findAgent(gitiso, id)];
  }
  const agents = await pickFromList(gitiso, title, () => true, true);
  if (agents.length === 0) {
    throw new CancelledError(title);
  }
  return agents;
}

async function findAgent(gitiso: Gitiso, id: string): Promise<Agent> {
  const known = gitiso.model.agents.find((agent) => agent.id === id);
  return known ?? gitiso.on(id).agents.get(id);
}

async function pickFromList(gitiso: Gitiso, title: string, filter: (agent: Agent) => boolean, canPickMany: boolean): Promise<Agent[]> {
  await gitiso.model.refresh();
  const agents = gitiso.model.agents.filter(filter);
  if (agents.length === 0) {
    throw new GitisoError('there are no agents to choose from: create one first');
  }
  const items = agents.map((agent) => ({ label: agent.id, description: `${agent.sessionBranch} · ${agent.state}`, agent }));
  const picked = canPickMany
    ? await vscode.window.showQuickPick(items, { title, canPickMany: true, placeHolder: 'Select agents' })
    : await vscode.window.showQuickPick(items, { title, placeHolder: 'Select an agent' }).then((item) => (item ? [item] : undefined));
  return (picked ?? []).map((item) => item.agent);
}
