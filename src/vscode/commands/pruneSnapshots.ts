import * as vscode from 'vscode';
import type { Snapshot } from '../../core/snapshot/snapshotStore';
import type { CommandContext } from './context';

/** Prune Unused Snapshots: removes every snapshot image no agent runs from, on every engine (they are rebuilt when needed). */
export async function pruneSnapshots(ctx: CommandContext): Promise<Snapshot[]> {
  const removed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Removing unused snapshots' }, async () => (await Promise.all(ctx.gitiso.engines.map((engine) => engine.core.snapshots.prune(0)))).flat());
  const freed = removed.reduce((sum, snapshot) => sum + (snapshot.sizeBytes ?? 0), 0);
  void vscode.window.showInformationMessage(removed.length === 0 ? 'No unused snapshots.' : `Removed ${removed.length} unused snapshots (${(freed / 1e6).toFixed(0)} MB of images).`);
  return removed;
}
