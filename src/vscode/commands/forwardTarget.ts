import * as vscode from 'vscode';
import { CancelledError, GitisoError } from '../../core/errors';
import type { Forward } from '../../core/ports/agentPorts';
import type { CommandContext } from './context';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

/** A forwarded-port row of the tree, or an agent (row or id), or nothing. */
export type ForwardTarget = { readonly forward: Forward } | AgentTarget;

/**
 * The forward a command acts on: the clicked port row; else the agent's only
 * forward, or one picked from its forwards; else (no forward yet) the dev
 * server's port, forwarded now, starting the server when the user agrees.
 */
export async function resolveForward(ctx: CommandContext, target: ForwardTarget, title: string): Promise<Forward> {
  if (target && typeof target === 'object' && 'forward' in target) {
    return target.forward;
  }
  const agent = await pickAgent(ctx.gitiso, target, title, isRunning);
  const forwards = ctx.gitiso.forwards(agent.id);
  if (forwards.length === 1) {
    return forwards[0] as Forward;
  }
  if (forwards.length > 1) {
    const picked = await vscode.window.showQuickPick(
      forwards.map((forward) => ({ label: `${forward.containerPort}`, description: `→ ${forward.url}`, forward })),
      { title, placeHolder: `Which port of ${agent.id}?` },
    );
    if (!picked) {
      throw new CancelledError(title);
    }
    return picked.forward;
  }
  const running = await ctx.gitiso.on(agent.id).devServers.status(agent.id);
  if (running) {
    return ctx.gitiso.on(agent.id).ports.forward(agent.id, running.port);
  }
  const start = await vscode.window.showInformationMessage(`The dev server of ${agent.id} is not running.`, 'Start Dev Server');
  if (start !== 'Start Dev Server') {
    throw new CancelledError(title);
  }
  const started = await vscode.commands.executeCommand<{ forward?: Forward } | undefined>('gitiso.startDevServer', agent.id);
  if (!started?.forward) {
    throw new GitisoError(`the dev server of ${agent.id} did not start: see its log`);
  }
  return started.forward;
}
