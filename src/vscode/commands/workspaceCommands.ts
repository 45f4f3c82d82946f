import * as vscode from 'vscode';
import { basename } from 'node:path';
import { isRunning, type Agent } from '../../core/agent';
import { GitisoError } from '../../core/errors';
import type { ApplyOutcome, MergeOutcome } from '../../core/roundTrip/roundTripTypes';
import { workspaceRepoFor } from '../workspaceRepo';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/**
 * The agent's work into the user's own repository, always from the host's
 * pool (the workspace never talks to a container): as a remote branch, a
 * local branch, a merge, or uncommitted changes.
 */
async function intoWorkspace<T>(ctx: CommandContext, target: AgentTarget, how: { title: string; doing: string; given?: WorkspaceGiven; run: (agent: Agent, dir: string, signal: AbortSignal) => Promise<T> }): Promise<{ agent: Agent; dir: string; result: T }> {
  const agent = await pickAgent(ctx.gitiso, target, how.title, isRunning);
  const dir = how.given?.dir ?? (await workspaceRepoFor(agent.repoUrl, how.title));
  if (!dir) {
    throw new GitisoError(`${how.title}: no open folder is a git repository; open a checkout of ${agent.repoUrl} first`);
  }
  // The core brings the agent's latest work home first, then takes it from the pool.
  const result = await withCancellableProgress({ title: `${how.doing} ${agent.id}'s work` }, (signal) => how.run(agent, dir, signal));
  refreshSourceControl(dir);
  return { agent, dir, result };
}

/** A script (or a test) may name the repository; from a menu or the palette it is the open folder's. */
export interface WorkspaceGiven {
  readonly dir?: string;
}

/** Fetch into Workspace: `refs/remotes/gitiso/<id>`, seen by Source Control, GitLens and `git log --all`. */
export async function fetchIntoWorkspace(ctx: CommandContext, target?: AgentTarget, _selected?: unknown, given?: WorkspaceGiven): Promise<string> {
  const { agent, dir, result } = await intoWorkspace(ctx, target, { title: 'Fetch into Workspace', doing: 'Fetching', given, run: (agent, dir, signal) => ctx.gitiso.on(agent.id).workspaceGit.fetchIntoWorkspace(agent.id, dir, { signal }) });
  void vscode.window.showInformationMessage(`${agent.id}'s work is in ${basename(dir)} as gitiso/${agent.id}.`);
  return result.ref;
}

/** Check Out Locally: a local branch `gitiso/<id>`; the core refuses when it would discard uncommitted work. */
export async function checkOutLocally(ctx: CommandContext, target?: AgentTarget, _selected?: unknown, given?: WorkspaceGiven): Promise<{ branch: string; commit: string }> {
  const { dir, result } = await intoWorkspace(ctx, target, { title: 'Check Out Locally', doing: 'Checking out', given, run: (agent, dir, signal) => ctx.gitiso.on(agent.id).workspaceGit.checkOut(agent.id, dir, { signal }) });
  void vscode.window.showInformationMessage(`${basename(dir)} is on ${result.branch} now.`);
  return result;
}

/** Merge into Current Branch: conflicts are left for Source Control, where VS Code's merge editor opens them. */
export async function mergeIntoCurrentBranch(ctx: CommandContext, target?: AgentTarget, _selected?: unknown, given?: WorkspaceGiven): Promise<MergeOutcome> {
  const { agent, dir, result } = await intoWorkspace(ctx, target, { title: 'Merge into Current Branch', doing: 'Merging', given, run: (agent, dir, signal) => ctx.gitiso.on(agent.id).workspaceGit.merge(agent.id, dir, { signal }) });
  if (result.kind === 'conflicts') {
    void conflictsMessage(`Merging ${agent.id} left conflicts in ${plural(result.conflicts.length, 'file')} of ${basename(dir)}: resolve them in Source Control, then commit.`);
  } else {
    const said = { 'fast-forward': 'fast-forwarded to', merged: 'merged', 'up-to-date': 'already has' }[result.kind];
    void vscode.window.showInformationMessage(`${basename(dir)}: ${said} ${agent.id}'s work.`);
  }
  return result;
}

/** Apply as Uncommitted Changes: the agent's changes against its base, into the working tree, with a three-way fallback. */
export async function applyChanges(ctx: CommandContext, target?: AgentTarget, _selected?: unknown, given?: WorkspaceGiven): Promise<ApplyOutcome> {
  const { agent, dir, result } = await intoWorkspace(ctx, target, { title: 'Apply as Uncommitted Changes', doing: 'Applying', given, run: (agent, dir, signal) => ctx.gitiso.on(agent.id).workspaceGit.apply(agent.id, dir, { signal }) });
  if (result.conflicts.length > 0) {
    void conflictsMessage(`Applied ${agent.id}'s changes to ${plural(result.files, 'file')}; ${plural(result.conflicts.length, 'file')} ${result.conflicts.length === 1 ? 'has' : 'have'} conflicts: resolve them in Source Control.`);
  } else {
    void vscode.window.showInformationMessage(`Applied ${agent.id}'s changes to ${plural(result.files, 'file')} of ${basename(dir)}, uncommitted.`);
  }
  return result;
}

async function conflictsMessage(message: string): Promise<void> {
  if ((await vscode.window.showWarningMessage(message, 'Open Source Control')) === 'Open Source Control') {
    await vscode.commands.executeCommand('workbench.view.scm');
  }
}

/** A nudge to VS Code's git extension (it also watches `.git` itself): failures, or no git extension, are fine. */
function refreshSourceControl(dir: string): void {
  void Promise.resolve(vscode.commands.executeCommand('git.refresh', vscode.Uri.file(dir))).catch(() => undefined);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
