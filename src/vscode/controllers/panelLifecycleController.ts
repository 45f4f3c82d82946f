import type * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import type { Gitiso } from '../composition';
import type { PreviewPanels } from '../preview/previewPanels';
import type { StatsPanels } from '../stats/statsPanels';

/**
 * Closes the panels of agents that stopped or went: their previews (with a
 * word: their forwards are gone with them) and their stats panels (quietly:
 * they would only freeze).
 */
export class PanelLifecycleController implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly gitiso: Gitiso,
    private readonly panels: { readonly previews: PreviewPanels; readonly statsPanels: StatsPanels },
  ) {
    this.subscription = gitiso.onDidChangeAgents(() => this.closeGonePanels());
  }

  private closeGonePanels(): void {
    const { model } = this.gitiso;
    // Only once the engine has answered: an empty list while connecting says nothing about the agents.
    if (model.engineStatus.kind !== 'connected') {
      return;
    }
    const running = new Set(model.agents.filter(isRunning).map((agent) => agent.id));
    const { previews, statsPanels } = this.panels;
    for (const agentId of new Set(previews.openPanels().map((panel) => panel.agentId))) {
      if (!running.has(agentId)) {
        previews.closeFor(agentId, `Agent ${agentId} stopped or was removed; its preview is closed.`);
      }
    }
    for (const agentId of statsPanels.openFor().filter((id) => !running.has(id))) {
      statsPanels.closeFor(agentId);
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
