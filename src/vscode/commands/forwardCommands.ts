import * as vscode from 'vscode';
import { CancelledError } from '../../core/errors';
import type { Forward } from '../../core/ports/agentPorts';
import { browserAddress, openInBrowser as openPageInBrowser } from '../preview/previewAddress';
import type { CommandContext } from './context';
import { resolveForward, type ForwardTarget } from './forwardTarget';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

/** Open Preview: the forwarded port in an editor tab (one per agent and port; several sit side by side). */
export async function openPreview(ctx: CommandContext, target?: ForwardTarget): Promise<Forward> {
  const forward = await resolveForward(ctx, target, 'Open Preview');
  await ctx.previews.open(forward.agentId, forward.containerPort);
  return forward;
}

/** Open in Browser: at the browser's address of the forward (gitiso.preview.address), never in the workbench's own origin. */
export async function openInBrowser(ctx: CommandContext, target?: ForwardTarget): Promise<void> {
  const forward = await resolveForward(ctx, target, 'Open in Browser');
  await openPageInBrowser(await browserAddress(forward.url));
}

export async function copyForwardUrl(ctx: CommandContext, target?: ForwardTarget): Promise<string> {
  const forward = await resolveForward(ctx, target, 'Copy Forwarded Address');
  await vscode.env.clipboard.writeText(forward.url);
  vscode.window.setStatusBarMessage(`$(copy) Copied ${forward.url}`, 3000);
  return forward.url;
}

export async function stopForwarding(ctx: CommandContext, target?: ForwardTarget): Promise<void> {
  const forward = await resolveForward(ctx, target, 'Stop Forwarding');
  await ctx.gitiso.on(forward.agentId).ports.stop(forward.agentId, forward.containerPort);
}

/** Forward a Port…: picks from what the agent listens on (or takes a typed port) and forwards it. */
export async function forwardPort(ctx: CommandContext, target?: AgentTarget, port?: number): Promise<Forward> {
  const agent = await pickAgent(ctx.gitiso, target, 'Forward a Port', isRunning);
  if (port === undefined) {
    const listening = await ctx.gitiso.on(agent.id).ports.discover(agent.id);
    const typed = { label: '$(edit) Another port…', port: 0 };
    const items = [
      ...listening.map((p) => ({ label: `${p.port}`, description: p.reachable ? p.address : `${p.address}: listens on loopback only, cannot be forwarded`, port: p.port })),
      typed,
    ];
    const picked = await vscode.window.showQuickPick(items, { title: `Forward a port of ${agent.id}`, placeHolder: listening.length ? 'Ports the agent listens on' : 'The agent listens on no port yet' });
    if (!picked) {
      throw new CancelledError('Forward a Port');
    }
    port = picked.port || Number(await vscode.window.showInputBox({
      title: `Forward a port of ${agent.id}`,
      prompt: 'The port inside the agent',
      validateInput: (value) => (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535 ? undefined : 'A port number from 1 to 65535'),
    }));
    if (!port) {
      throw new CancelledError('Forward a Port');
    }
  }
  const forward = await ctx.gitiso.on(agent.id).ports.forward(agent.id, port);
  vscode.window.setStatusBarMessage(`$(plug) ${agent.id}:${port} → ${forward.url}`, 4000);
  return forward;
}
