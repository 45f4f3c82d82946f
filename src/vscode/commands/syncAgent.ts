import * as vscode from 'vscode';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/** Sync with Remote: the remote's new commits reach the agent's origin/<base> through the host's pool. */
export async function syncAgent(ctx: CommandContext, target?: AgentTarget): Promise<{ branch: string; from: string; to: string }> {
  const agent = await pickAgent(ctx.gitiso, target, 'Sync with Remote', (a) => a.state === 'ready' || a.state === 'error');
  const synced = await withCancellableProgress({ title: `Syncing ${agent.id} with its remote` }, (signal) => ctx.gitiso.on(agent.id).agents.sync(agent.id, { signal }));
  void vscode.window.showInformationMessage(
    synced.from === synced.to ? `${agent.id}: origin/${synced.branch} is up to date.` : `${agent.id}: origin/${synced.branch} now at ${synced.to.slice(0, 12)}. Merge or rebase in the agent to take it.`,
  );
  return synced;
}
