import type * as vscode from 'vscode';
import type { SessionWatch } from '../../core/codingAgents/sessionWatch';
import type { WindowApiAccess } from '../windowApiAccess';
import type { AgentOutputChannels } from '../agentOutput';
import type { Gitiso } from '../composition';
import type { DevServerStates } from '../devServerStates';
import type { PreviewPanels } from '../preview/previewPanels';
import type { AgentChangesCache } from '../review/agentChanges';
import type { ObjectContentProvider } from '../review/objectContentProvider';
import type { StatsPanels } from '../stats/statsPanels';

/** What every command handler gets. */
export interface CommandContext {
  readonly gitiso: Gitiso;
  readonly log: vscode.LogOutputChannel;
  readonly outputs: AgentOutputChannels;
  readonly previews: PreviewPanels;
  readonly statsPanels: StatsPanels;
  /** The window's last look at each agent's changes (the tree shows it). */
  readonly changes: AgentChangesCache;
  /** The read-only sides of reviews, read from the pool. */
  readonly objects: ObjectContentProvider;
  /** Whether each agent's dev server runs, for the rows' menus: the dev server commands tell it. */
  readonly devStates: DevServerStates;
  /** What each agent's coding agent is doing (New Task looks at once, so the rows say so). */
  readonly sessions: SessionWatch;
  /** The host's key proxy for coding agents, and the keys it adds. */
  readonly apiAccess: WindowApiAccess;
  readonly secrets: vscode.SecretStorage;
  /** The workspace's memory (the last choices of multi-step inputs). */
  readonly workspaceState: vscode.Memento;
}
