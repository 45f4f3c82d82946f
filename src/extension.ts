import * as vscode from 'vscode';
import { isRunning } from './core/agent';
import type { Agent } from './core/agent';
import { GITISO_VERSION } from './core/version';
import { AgentOutputChannels } from './vscode/agentOutput';
import { registerCommands } from './vscode/commands/registerCommands';
import { Gitiso } from './vscode/composition';
import { AgentFileSystem } from './vscode/files/agentFileSystem';
import { setupConsentPrompt } from './vscode/setupConsent';
import { ContextKeysController } from './vscode/controllers/contextKeysController';
import { ForwardRevealController } from './vscode/controllers/forwardRevealController';
import { PanelLifecycleController } from './vscode/controllers/panelLifecycleController';
import { SamplingController } from './vscode/controllers/samplingController';
import { SessionController } from './vscode/controllers/sessionController';
import { WindowApiAccess } from './vscode/windowApiAccess';
import { SessionWatch } from './core/codingAgents/sessionWatch';
import { ChangesRefreshController } from './vscode/controllers/changesRefreshController';
import { AgentChangesCache } from './vscode/review/agentChanges';
import { ObjectContentProvider } from './vscode/review/objectContentProvider';
import { ChangeDecorations } from './vscode/views/changeDecorations';
import type { ChangedFileTreeItem } from './vscode/views/changedFileTreeItem';
import type { ChangesMessageItem } from './vscode/views/changesTreeItem';
import { AgentsStatusItem } from './vscode/statusBar/agentsStatusItem';
import { DevServerStates } from './vscode/devServerStates';
import { AgentsTreeProvider, type AgentsTreeNode, type TreeRefreshCounts, type TreeRender } from './vscode/views/agentsTreeProvider';
import type { EngineTreeItem } from './vscode/views/engineTreeItem';
import type { AgentTreeItem } from './vscode/views/agentTreeItem';
import { FirstTree } from './vscode/views/firstTree';
import { ForwardTreeItem } from './vscode/views/forwardTreeItem';
import { PreviewPanels } from './vscode/preview/previewPanels';
import { StatsPanels } from './vscode/stats/statsPanels';

/** What activate() returns: enough for other extensions and for gitiso's own tests to look inside. */
export interface GitisoApi {
  readonly version: string;
  readonly gitiso: Gitiso;
  readonly activatedInMs: number;
  /** When activate() began, on the extension host's performance.now() clock (lastTreeRender's). */
  readonly activatedAt: number;
  treeItems(): AgentTreeItem[];
  /** With several engines, the tree's root: a row per engine. */
  engineItems(): EngineTreeItem[];
  /** What the tree shows under a row. */
  childrenOf(node: AgentsTreeNode): Promise<AgentsTreeNode[]>;
  forwardItems(agentId: string): ForwardTreeItem[];
  /** The rows under an agent's Changes node, loaded if they were not. */
  changedFileItems(agentId: string): Promise<(ChangedFileTreeItem | ChangesMessageItem)[]>;
  /** The agents whose Changes are being watched now (expanded, in a visible view, in a focused window). */
  watchedChanges(): string[];
  /** Opens an agent's Changes node, as a user's click does; says what it found: no node (the agent is not running, or not listed yet), or the view hidden. */
  expandChanges(agentId: string): Promise<'expanded' | 'no node' | 'view hidden'>;
  readonly previews: PreviewPanels;
  readonly statsPanels: StatsPanels;
  statusBar(): { text: string; tooltip: string; warning: boolean; shown: boolean };
  contextKeys(): Record<string, unknown>;
  /** The view's badge: the agents that need attention, or none. */
  badge(): { value: number; tooltip: string } | undefined;
  /** How often the tree asked for a full refresh and for row refreshes (a stats sample must not redraw the whole tree). */
  treeRefreshes(): TreeRefreshCounts;
  /** The view's last read of the tree's root (none while the view was never shown). */
  lastTreeRender(): TreeRender | undefined;
  /** The view's first read of the tree's root, whatever it held. */
  firstTreeRender(): TreeRender | undefined;
  /** When the view last took an agent's row (getTreeItem), and the agent it showed. */
  lastRowRender(agentId: string): { readonly at: number; readonly agent: Agent } | undefined;
}

export function activate(context: vscode.ExtensionContext): GitisoApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('gitiso', { log: true });
  context.subscriptions.push(log);

  // With many agents, the first tree comes first: what can wait (stats, dev server probes, the leftovers sweep) waits for it.
  const firstTree = new FirstTree();
  const gitiso = new Gitiso(log, setupConsentPrompt(context.globalState), firstTree.shown);

  const outputs = new AgentOutputChannels();
  const agentFiles = new AgentFileSystem(gitiso);
  const changes = new AgentChangesCache((agentId) => gitiso.on(agentId).roundTrip);
  const devStates = new DevServerStates(gitiso, firstTree.shown);
  // Each agent's coding agent: what it is doing, for the tree and the notifications (the core is looked up per probe: it follows a rebuilt one).
  const sessions = new SessionWatch({ sessions: { state: (agentId) => gitiso.on(agentId).sessions.state(agentId) }, runningAgents: () => gitiso.model.agents.filter(isRunning).map((agent) => agent.id), log });
  const tree = new AgentsTreeProvider(gitiso, changes, devStates, { sessions, firstTree });
  const view = vscode.window.createTreeView('gitiso.agents', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: false });
  // A hidden view asks for no tree: the engine's first answer is enough.
  const hiddenStart = gitiso.onDidChangeAgents(() => !view.visible && gitiso.model.engineStatus.kind !== 'unknown' && firstTree.markShown());
  const expansions = [
    view.onDidExpandElement(({ element }) => tree.noteExpansion(element, true)),
    view.onDidCollapseElement(({ element }) => tree.noteExpansion(element, false)),
  ];
  const status = new AgentsStatusItem(gitiso);
  const statsPanels = new StatsPanels(context.extensionUri, gitiso);
  const previews = new PreviewPanels({
    extensionUri: context.extensionUri,
    log,
    forwards: {
      open: async (agentId, port) => (await gitiso.on(agentId).ports.forward(agentId, port)).url,
      current: (agentId, port) => gitiso.forwards(agentId).find((forward) => forward.containerPort === port)?.url,
      onDidChange: (listener) => gitiso.onDidChangeForwards(listener),
    },
  });

  const contextKeys = new ContextKeysController(gitiso, view);
  const changesRefresh = new ChangesRefreshController(gitiso, changes, view, tree);
  const controllers = [
    contextKeys,
    new PanelLifecycleController(gitiso, { previews, statsPanels }),
    new ForwardRevealController(gitiso, tree, view),
    new SamplingController({ gitiso, view, status, statsPanels, afterFirstTree: firstTree.shown }),
    changesRefresh,
    new SessionController({ gitiso, watch: sessions, view, afterFirstTree: firstTree.shown }),
  ];

  const apiAccess = new WindowApiAccess(context.secrets, gitiso, log, sessions);
  const objects = new ObjectContentProvider(gitiso, changes, log);
  const commands = registerCommands({ gitiso, log, outputs, previews, statsPanels, changes, objects, devStates, sessions, apiAccess, secrets: context.secrets, workspaceState: context.workspaceState });
  const reviewProviders = [objects.register(), new ChangeDecorations().register()];

  context.subscriptions.push(gitiso, hiddenStart, sessions, apiAccess, outputs, agentFiles, changes, ...reviewProviders, devStates, tree, view, ...expansions, status, statsPanels, previews, previews.register(), ...controllers, ...commands);

  const activatedInMs = Math.round(performance.now() - started);
  log.info(`gitiso ${GITISO_VERSION} activated in ${activatedInMs} ms`);
  return {
    version: GITISO_VERSION,
    gitiso,
    activatedInMs,
    activatedAt: started,
    treeItems: () => tree.agentItems(),
    forwardItems: (agentId) => tree.forwardItems(agentId),
    engineItems: () => tree.engineItems(),
    childrenOf: async (node) => tree.getChildren(node),
    changedFileItems: (agentId) => tree.changedFiles(agentId),
    watchedChanges: () => changesRefresh.watched,
    expandChanges: async (agentId) => {
      const node = tree.changesItem(agentId);
      if (!node) {
        return 'no node';
      }
      await view.reveal(node, { expand: true, select: false, focus: false });
      return view.visible ? 'expanded' : 'view hidden';
    },
    previews,
    statsPanels,
    statusBar: () => ({
      text: status.item.text,
      tooltip: typeof status.item.tooltip === 'string' ? status.item.tooltip : (status.item.tooltip?.value ?? ''),
      warning: status.item.backgroundColor !== undefined,
      shown: status.shown,
    }),
    contextKeys: () => contextKeys.snapshot(),
    badge: () => (view.badge ? { value: view.badge.value, tooltip: view.badge.tooltip } : undefined),
    treeRefreshes: () => tree.refreshCounts,
    lastTreeRender: () => tree.lastRender,
    firstTreeRender: () => tree.firstRead,
    lastRowRender: (agentId) => tree.lastRowRender(agentId),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
