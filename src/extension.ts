import * as vscode from 'vscode';
import { isRunning } from './core/agent';
import { GITISO_VERSION } from './core/version';
import { AgentOutputChannels } from './vscode/agentOutput';
import { registerCommands } from './vscode/commands/registerCommands';
import { Gitiso } from './vscode/composition';
import { ContextKeys } from './vscode/contextKeys';
import { AgentsStatusItem } from './vscode/statusBar/agentsStatusItem';
import { AgentsTreeProvider } from './vscode/views/agentsTreeProvider';
import type { AgentTreeItem } from './vscode/views/agentTreeItem';
import { ForwardTreeItem } from './vscode/views/forwardTreeItem';
import { PreviewPanels } from './vscode/preview/previewPanels';
import { StatsPanels } from './vscode/stats/statsPanels';
import { readWorkspaceRepo } from './vscode/workspaceRepo';

/** What activate() returns: enough for other extensions and for gitiso's own tests to look inside. */
export interface GitisoApi {
  readonly version: string;
  readonly gitiso: Gitiso;
  readonly activatedInMs: number;
  treeItems(): AgentTreeItem[];
  forwardItems(agentId: string): ForwardTreeItem[];
  readonly previews: PreviewPanels;
  readonly statsPanels: StatsPanels;
  statusBar(): { text: string; tooltip: string; warning: boolean; shown: boolean };
  contextKeys(): Record<string, unknown>;
}

export function activate(context: vscode.ExtensionContext): GitisoApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('gitiso', { log: true });
  context.subscriptions.push(log);

  const gitiso = new Gitiso(log);
  const outputs = new AgentOutputChannels();
  const tree = new AgentsTreeProvider(gitiso);
  const view = vscode.window.createTreeView('gitiso.agents', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: false });
  const status = new AgentsStatusItem(gitiso);
  const keys = new ContextKeys();
  const statsPanels = new StatsPanels(context.extensionUri, gitiso);
  const previews = new PreviewPanels(context.extensionUri, async (agentId, port) => (await gitiso.ports.forward(agentId, port)).url, log);

  const updateKeys = (): void => {
    const { model } = gitiso;
    const kind = model.engineStatus.kind;
    keys.set('gitiso.engineState', kind === 'unknown' ? 'connecting' : kind);
    keys.set('gitiso.agentCount', model.agents.length);
    view.badge = model.agents.length > 0 ? { value: model.agents.length, tooltip: model.agents.length === 1 ? '1 agent' : `${model.agents.length} agents` } : undefined;
  };
  const updateRepoKey = (): void => void readWorkspaceRepo().then((repo) => keys.set('gitiso.hasRepository', repo !== undefined));
  // A preview whose agent stopped or went closes, with a word (only once the engine has answered).
  const closeGonePreviews = (): void => {
    const { model } = gitiso;
    if (model.engineStatus.kind !== 'connected') {
      return;
    }
    const running = new Set(model.agents.filter(isRunning).map((agent) => agent.id));
    for (const agentId of new Set(previews.openPanels().map((panel) => panel.agentId))) {
      if (!running.has(agentId)) {
        previews.closeFor(agentId, `Agent ${agentId} stopped or was removed; its preview is closed.`);
      }
    }
  };
  // A new forward opens its agent's row (the tree keeps a row's own expansion state otherwise).
  let forwarded = new Set<string>();
  const revealNewForwards = (): void => {
    const now = new Set(gitiso.ports.forwards().map((forward) => forward.agentId));
    for (const item of tree.agentItems()) {
      if (now.has(item.agent.id) && !forwarded.has(item.agent.id) && view.visible) {
        void view.reveal(item, { expand: true, select: false, focus: false }).then(undefined, () => undefined);
      }
    }
    forwarded = now;
  };
  // Stats cost CPU: sample only while someone can see them (the view or the status bar) in a focused window.
  const updateSampling = (): void => {
    gitiso.stats.setActive(vscode.window.state.focused && (view.visible || status.visible || statsPanels.anyVisible) && gitiso.model.agents.some(isRunning));
  };
  updateKeys();
  updateRepoKey();
  updateSampling();

  context.subscriptions.push(
    gitiso,
    outputs,
    tree,
    view,
    status,
    gitiso.onDidChange(updateKeys),
    gitiso.onDidChange(closeGonePreviews),
    gitiso.onDidChange(revealNewForwards),
    gitiso.onDidChange(updateSampling),
    view.onDidChangeVisibility(updateSampling),
    statsPanels,
    statsPanels.onDidChangeVisibility(updateSampling),
    vscode.window.onDidChangeWindowState(updateSampling),
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('gitiso.statusBar.show') && updateSampling()),
    vscode.workspace.onDidChangeWorkspaceFolders(updateRepoKey),
    previews,
    previews.register(),
    ...registerCommands({ gitiso, log, outputs, previews, statsPanels }),
  );

  const activatedInMs = Math.round(performance.now() - started);
  log.info(`gitiso ${GITISO_VERSION} activated in ${activatedInMs} ms`);
  return {
    version: GITISO_VERSION,
    gitiso,
    activatedInMs,
    treeItems: () => tree.agentItems(),
    forwardItems: (agentId) => tree.getChildren(tree.agentItems().find((item) => item.agent.id === agentId)).filter((node): node is ForwardTreeItem => node instanceof ForwardTreeItem),
    previews,
    statsPanels,
    statusBar: () => ({
      text: status.item.text,
      tooltip: typeof status.item.tooltip === 'string' ? status.item.tooltip : (status.item.tooltip?.value ?? ''),
      warning: status.item.backgroundColor !== undefined,
      shown: status.shown,
    }),
    contextKeys: () => keys.snapshot(),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
