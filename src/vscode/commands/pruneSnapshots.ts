import * as vscode from 'vscode';
import type { Snapshot } from '../../core/snapshot/snapshotStore';
import type { CommandContext } from './context';

/** Prune Unused Snapshots: removes every snapshot image no agent runs from (they are rebuilt when needed). */
export async function pruneSnapshots(ctx: CommandContext): Promise<Snapshot[]> {
  const removed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Removing unused snapshots' }, () => ctx.gitiso.snapshots.prune(0));
  const freed = removed.reduce((sum, snapshot) => sum + (snapshot.sizeBytes ?? 0), 0);
  void vscode.window.showInformationMessage(removed.length === 0 ? 'No unused snapshots.' : `Removed ${removed.length} unused snapshots (${(freed / 1e6).toFixed(0)} MB of images).`);
  return removed;
}
