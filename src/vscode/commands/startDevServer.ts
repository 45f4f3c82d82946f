import * as vscode from 'vscode';
import type { DevStartResult } from '../../core/dev/devServers';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

/**
 * Start (or Restart) Dev Server: runs the project's dev command in the agent,
 * waits for its port and forwards it to 127.0.0.1; a restart reloads the
 * agent's previews. Cancelling stops the wait, not the server.
 */
export async function startDevServer(ctx: CommandContext, target?: AgentTarget, restart = false): Promise<DevStartResult> {
  const title = restart ? 'Restart Dev Server' : 'Start Dev Server';
  const agent = await pickAgent(ctx.gitiso, target, title, isRunning);
  const result = await withCancellableProgress({ title: `${restart ? 'Restarting' : 'Starting'} the dev server of ${agent.id}` }, async (signal, progress) => {
    progress.report({ message: 'waiting for its port…' });
    const servers = ctx.gitiso.on(agent.id).devServers;
    return restart ? servers.restart(agent.id, { forward: true, signal }) : servers.start(agent.id, { forward: true, signal });
  });
  ctx.devStates.set(agent.id, true);
  ctx.log.info(`dev server of '${agent.id}': ${result.command} on ${result.port}${result.forward ? ` → ${result.forward.url}` : ''}`);
  if (restart) {
    ctx.previews.reload(agent.id);
  }
  const forwarded = result.forward ? ` → ${result.forward.url}` : '';
  void vscode.window.showInformationMessage(`${agent.id}: dev server ${result.started ? 'started' : 'already running'} on port ${result.port}${forwarded}.`, 'Open Preview', 'Show Log').then((choice) => {
    if (choice === 'Open Preview') {
      void vscode.commands.executeCommand('gitiso.openPreview', agent.id);
    } else if (choice === 'Show Log') {
      void vscode.commands.executeCommand('gitiso.showDevServerLog', agent.id);
    }
  });
  return result;
}
