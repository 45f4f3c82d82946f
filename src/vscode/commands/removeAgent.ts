import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { CancelledError, describeCause, GitisoError } from '../../core/errors';
import type { CommandContext } from './context';
import { pickAgents, type AgentTarget } from './pickAgents';

export interface RemoveOptions {
  /** Scripts and tests that have already asked may skip the confirmation. */
  readonly confirm?: boolean;
}

/** Remove Agent(s): works on a multi-selection; a modal confirmation names them. */
export async function removeAgent(ctx: CommandContext, target?: AgentTarget | readonly string[], selected?: readonly { agent: Agent }[], options: RemoveOptions = {}): Promise<void> {
  const agents = await pickAgents(ctx.gitiso, target, selected, 'Remove Agents');
  const names = agents.map((agent) => agent.id).join(', ');
  if (options.confirm !== false) {
    const detail = 'Their containers, clones and any work not pushed are deleted.';
    const choice = await vscode.window.showWarningMessage(agents.length === 1 ? `Remove agent ${names}?` : `Remove ${agents.length} agents: ${names}?`, { modal: true, detail }, 'Remove');
    if (choice !== 'Remove') {
      throw new CancelledError('removal');
    }
  }
  const results = await Promise.allSettled(agents.map((agent) => ctx.gitiso.on(agent.id).agents.remove(agent.id)));
  await ctx.gitiso.model.refresh();
  const failures = results.flatMap((result, index) => (result.status === 'rejected' ? [`${agents[index]?.id}: ${describeCause(result.reason)}`] : []));
  if (failures.length > 0) {
    throw new GitisoError(`could not remove ${failures.join('; ')}`);
  }
}
