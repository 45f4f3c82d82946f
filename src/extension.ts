import * as vscode from 'vscode';
import { GITISO_VERSION } from './core/version';
import { AgentOutputChannels } from './vscode/agentOutput';
import { registerCommands } from './vscode/commands/registerCommands';
import { Gitiso } from './vscode/composition';
import { AgentFileSystem } from './vscode/files/agentFileSystem';
import { setupConsentPrompt } from './vscode/setupConsent';
import { ContextKeysController } from './vscode/controllers/contextKeysController';
import { ForwardRevealController } from './vscode/controllers/forwardRevealController';
import { PreviewLifecycleController } from './vscode/controllers/previewLifecycleController';
import { SamplingController } from './vscode/controllers/samplingController';
import { AgentsStatusItem } from './vscode/statusBar/agentsStatusItem';
import { AgentsTreeProvider, type TreeRefreshCounts } from './vscode/views/agentsTreeProvider';
import type { AgentTreeItem } from './vscode/views/agentTreeItem';
import { ForwardTreeItem } from './vscode/views/forwardTreeItem';
import { PreviewPanels } from './vscode/preview/previewPanels';
import { StatsPanels } from './vscode/stats/statsPanels';

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
  /** How often the tree asked for a full refresh and for row refreshes (a stats sample must not redraw the whole tree). */
  treeRefreshes(): TreeRefreshCounts;
}

export function activate(context: vscode.ExtensionContext): GitisoApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('gitiso', { log: true });
  context.subscriptions.push(log);

  const gitiso = new Gitiso(log, setupConsentPrompt(context.globalState));

  const outputs = new AgentOutputChannels();
  const agentFiles = new AgentFileSystem(gitiso);
  const tree = new AgentsTreeProvider(gitiso);
  const view = vscode.window.createTreeView('gitiso.agents', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: false });
  const status = new AgentsStatusItem(gitiso);
  const statsPanels = new StatsPanels(context.extensionUri, gitiso);
  const previews = new PreviewPanels({
    extensionUri: context.extensionUri,
    log,
    forwards: {
      open: async (agentId, port) => (await gitiso.ports.forward(agentId, port)).url,
      current: (agentId, port) => gitiso.ports.forwards(agentId).find((forward) => forward.containerPort === port)?.url,
      onDidChange: (listener) => gitiso.onDidChangeForwards(listener),
    },
  });

  const contextKeys = new ContextKeysController(gitiso, view);
  const controllers = [
    contextKeys,
    new PreviewLifecycleController(gitiso, previews),
    new ForwardRevealController(gitiso, tree, view),
    new SamplingController({ gitiso, view, status, statsPanels }),
  ];

  const commands = registerCommands({ gitiso, log, outputs, previews, statsPanels });

  context.subscriptions.push(gitiso, outputs, agentFiles, tree, view, status, statsPanels, previews, previews.register(), ...controllers, ...commands);

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
    contextKeys: () => contextKeys.snapshot(),
    treeRefreshes: () => tree.refreshCounts,
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
