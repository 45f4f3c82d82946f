import * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import type { Gitiso } from '../composition';
import type { StatsPanels } from '../stats/statsPanels';
import type { AgentsStatusItem } from '../statusBar/agentsStatusItem';
import type { AgentsTreeNode } from '../views/agentsTreeProvider';
import { startAfter } from '../views/firstTree';

/** Where the stats are shown: sampling is on while one of them can be seen. */
export interface StatsViewers {
  readonly gitiso: Gitiso;
  readonly view: vscode.TreeView<AgentsTreeNode>;
  readonly status: AgentsStatusItem;
  readonly statsPanels: StatsPanels;
  /** Sampling waits for it: the first sample opens a channel into every running agent. */
  readonly afterFirstTree?: Promise<void>;
}

/** Stats cost CPU: samples only while someone can see them (the view, the status bar or a stats panel) in a focused window. */
export class SamplingController implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[];
  private started = false;

  constructor(private readonly viewers: StatsViewers) {
    const update = (): void => this.updateSampling();
    this.subscriptions = [
      viewers.gitiso.onDidChangeAgents(update),
      viewers.view.onDidChangeVisibility(update),
      viewers.statsPanels.onDidChangeVisibility(update),
      vscode.window.onDidChangeWindowState(update),
      vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('gitiso.statusBar.show') && update()),
      startAfter(viewers.afterFirstTree, () => {
        this.started = true;
        update();
      }),
    ];
  }

  private updateSampling(): void {
    const { gitiso, view, status, statsPanels } = this.viewers;
    const seen = view.visible || status.visible || statsPanels.anyVisible;
    gitiso.stats.setActive(this.started && vscode.window.state.focused && seen && gitiso.model.agents.some(isRunning));
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}
