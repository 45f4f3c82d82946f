import type * as vscode from 'vscode';
import type { Gitiso } from '../composition';
import type { AgentsTreeNode, AgentsTreeProvider } from '../views/agentsTreeProvider';

/** Opens the row of an agent that got its first forward (the tree keeps a row's own expansion state otherwise). */
export class ForwardRevealController implements vscode.Disposable {
  /** The agents that had forwards at the last change. */
  private forwarded = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly gitiso: Gitiso,
    private readonly tree: AgentsTreeProvider,
    private readonly view: vscode.TreeView<AgentsTreeNode>,
  ) {
    this.subscription = gitiso.onDidChangeForwards(() => this.revealNewForwards());
  }

  private revealNewForwards(): void {
    const now = new Set(this.gitiso.forwards().map((forward) => forward.agentId));
    for (const item of this.tree.agentItems()) {
      if (now.has(item.agent.id) && !this.forwarded.has(item.agent.id) && this.view.visible) {
        void this.view.reveal(item, { expand: true, select: false, focus: false }).then(undefined, () => undefined);
      }
    }
    this.forwarded = now;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
