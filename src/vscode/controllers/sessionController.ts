import * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import type { SessionTransition, SessionWatch } from '../../core/codingAgents/sessionWatch';
import type { Gitiso } from '../composition';
import type { AgentsTreeNode } from '../views/agentsTreeProvider';
import { startAfter } from '../views/firstTree';

/**
 * Watches the agents' coding agents while it matters: the tree can be seen in
 * a focused window, or a task is still at work (so its end is told even with
 * the view closed or the window in the background). Tells the user when a task waits
 * for input or finishes, with the next step as a button.
 */
export class SessionController implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[];
  private started = false;

  constructor(
    private readonly deps: {
      readonly gitiso: Gitiso;
      readonly watch: SessionWatch;
      readonly view: vscode.TreeView<AgentsTreeNode>;
      /** Watching waits for it: its first round probes every running agent. */
      readonly afterFirstTree?: Promise<void>;
    },
  ) {
    const update = (): void => {
      if (this.started) {
        this.updateWatching();
      }
    };
    this.subscriptions = [
      deps.gitiso.onDidChangeAgents(update),
      deps.view.onDidChangeVisibility(update),
      vscode.window.onDidChangeWindowState(update),
      deps.watch.onDidChange(update),
      deps.watch.onDidTransition((transition) => void this.tell(transition)),
      startAfter(deps.afterFirstTree, () => {
        this.started = true;
        update();
      }),
    ];
  }

  private updateWatching(): void {
    const { gitiso, watch, view } = this.deps;
    const running = gitiso.model.agents.filter(isRunning);
    const atWork = running.some((agent) => {
      const activity = watch.stateOf(agent.id)?.activity;
      return activity === 'working' || activity === 'waiting';
    });
    // A task at work is watched even from an unfocused window: its end is what the user waits for elsewhere.
    watch.setActive(running.length > 0 && (atWork || (vscode.window.state.focused && view.visible)));
  }

  private async tell(transition: SessionTransition): Promise<void> {
    const { agentId, from, state } = transition;
    const what = state.task ? `${state.task.preset} in ${agentId} ("${state.task.title}")` : `the coding agent in ${agentId}`;
    // First seen (a window that opens on running tasks) is no news: only a change is told.
    if (!from) {
      return;
    }
    if (state.activity === 'waiting' && from === 'working') {
      const choice = await vscode.window.showInformationMessage(`${what} is waiting for input.`, 'Open Terminal');
      if (choice === 'Open Terminal') {
        await vscode.commands.executeCommand('gitiso.openTerminal', agentId);
      }
    } else if (state.activity === 'finished') {
      const failed = state.exitCode !== undefined && state.exitCode !== 0;
      const message = failed ? `${what} ended with exit status ${state.exitCode}.` : `${what} has finished.`;
      const show = failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      const choice = await show(message, 'Review Changes', 'Open Terminal');
      if (choice === 'Review Changes') {
        await vscode.commands.executeCommand('gitiso.reviewChanges', agentId);
      } else if (choice === 'Open Terminal') {
        await vscode.commands.executeCommand('gitiso.openTerminal', agentId);
      }
    }
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}
