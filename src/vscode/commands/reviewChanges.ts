import * as vscode from 'vscode';
import { isRunning } from '../../core/agent';
import { baseName, filesChanged } from '../review/changeStatus';
import { reviewSidesOf } from '../review/reviewSides';
import { withCancellableProgress } from '../progress';
import type { CommandContext } from './context';
import { pickAgent, type AgentTarget } from './pickAgents';

/** What Review Changes opened (tests and scripts read it). */
export interface ReviewOpened {
  readonly title: string;
  readonly files: readonly string[];
  /** Milliseconds to bring the work home, list it and read it, then for the editor to open. */
  readonly loadMs: number;
  readonly openMs: number;
}

/**
 * Review Changes: brings the agent's work home and opens every file it
 * changed against its base, committed and uncommitted, in VS Code's
 * multi-file diff editor; both sides are served from the host's pool.
 */
export async function reviewChanges(ctx: CommandContext, target?: AgentTarget): Promise<ReviewOpened | undefined> {
  const agent = await pickAgent(ctx.gitiso, target, 'Review Changes', isRunning);
  const started = performance.now();
  const { work, files } = await withCancellableProgress({ title: `Bringing ${agent.id}'s work home` }, async (signal) => {
    const changes = await ctx.changes.load(agent.id, signal);
    // Both sides of every file in a few git processes, before the editor asks for them one by one.
    await ctx.objects.prefetch(changes.work, changes.files, signal);
    return changes;
  });
  const against = baseName(agent.baseBranch, work.base);
  if (files.length === 0) {
    void vscode.window.showInformationMessage(`${agent.id} has no changes against ${against}`);
    return undefined;
  }
  const loaded = performance.now();
  const title = `${agent.id}: ${filesChanged(files.length)} against ${against}`;
  const resources = files.map((file) => {
    const sides = reviewSidesOf(work, file);
    return [sides.resource, sides.left, sides.right];
  });
  await vscode.commands.executeCommand('vscode.changes', title, resources);
  const timings = { loadMs: Math.round(loaded - started), openMs: Math.round(performance.now() - loaded) };
  ctx.log.info(`Review Changes of ${agent.id}: ${files.length} files brought home and listed in ${timings.loadMs} ms, editor opened in ${timings.openMs} ms`);
  return { title, files: files.map((file) => file.path), ...timings };
}
