import * as vscode from 'vscode';
import { GITISO_VERSION } from './core/version';
import { AgentOutputChannels } from './vscode/agentOutput';
import { registerCommands } from './vscode/commands/registerCommands';
import { Gitiso } from './vscode/composition';
import { ContextKeys } from './vscode/contextKeys';
import { AgentsStatusItem } from './vscode/statusBar/agentsStatusItem';
import { AgentsTreeProvider } from './vscode/views/agentsTreeProvider';
import type { AgentTreeItem } from './vscode/views/agentTreeItem';
import { readWorkspaceRepo } from './vscode/workspaceRepo';

/** What activate() returns: enough for other extensions and for gitiso's own tests to look inside. */
export interface GitisoApi {
  readonly version: string;
  readonly gitiso: Gitiso;
  readonly activatedInMs: number;
  treeItems(): AgentTreeItem[];
  statusBar(): { text: string; tooltip: string; warning: boolean };
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

  const updateKeys = (): void => {
    const { model } = gitiso;
    const kind = model.engineStatus.kind;
    keys.set('gitiso.engineState', kind === 'unknown' ? 'connecting' : kind);
    keys.set('gitiso.agentCount', model.agents.length);
    view.badge = model.agents.length > 0 ? { value: model.agents.length, tooltip: model.agents.length === 1 ? '1 agent' : `${model.agents.length} agents` } : undefined;
  };
  const updateRepoKey = (): void => void readWorkspaceRepo().then((repo) => keys.set('gitiso.hasRepository', repo !== undefined));
  updateKeys();
  updateRepoKey();

  context.subscriptions.push(
    gitiso,
    outputs,
    tree,
    view,
    status,
    gitiso.onDidChange(updateKeys),
    vscode.workspace.onDidChangeWorkspaceFolders(updateRepoKey),
    ...registerCommands({ gitiso, log, outputs }),
  );

  const activatedInMs = Math.round(performance.now() - started);
  log.info(`gitiso ${GITISO_VERSION} activated in ${activatedInMs} ms`);
  return {
    version: GITISO_VERSION,
    gitiso,
    activatedInMs,
    treeItems: () => tree.getChildren(),
    statusBar: () => ({
      text: status.item.text,
      tooltip: typeof status.item.tooltip === 'string' ? status.item.tooltip : (status.item.tooltip?.value ?? ''),
      warning: status.item.backgroundColor !== undefined,
    }),
    contextKeys: () => keys.snapshot(),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
