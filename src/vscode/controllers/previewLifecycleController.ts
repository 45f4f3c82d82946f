import type * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import type { Gitiso } from '../composition';
import type { PreviewPanels } from '../preview/previewPanels';

/** Closes, with a word, the previews of agents that stopped or went: their forwards are gone with them. */
export class PreviewLifecycleController implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly gitiso: Gitiso,
    private readonly previews: PreviewPanels,
  ) {
    this.subscription = gitiso.onDidChangeAgents(() => this.closeGonePreviews());
  }

  private closeGonePreviews(): void {
    const { model } = this.gitiso;
    // Only once the engine has answered: an empty list while connecting says nothing about the agents.
    if (model.engineStatus.kind !== 'connected') {
      return;
    }
    const running = new Set(model.agents.filter(isRunning).map((agent) => agent.id));
    for (const agentId of new Set(this.previews.openPanels().map((panel) => panel.agentId))) {
      if (!running.has(agentId)) {
        this.previews.closeFor(agentId, `Agent ${agentId} stopped or was removed; its preview is closed.`);
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
