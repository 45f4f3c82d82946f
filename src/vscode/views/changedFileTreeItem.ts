import * as vscode from 'vscode';
import { posix } from 'node:path';
import type { ChangedFile } from '../../core/roundTrip/roundTripTypes';
import type { AgentChanges } from '../review/agentChanges';
import { countsOf, STATUS_LETTERS } from '../review/changeStatus';
import { liveReviewSidesOf } from '../review/reviewSides';
import { CHANGE_SCHEME } from '../review/reviewUris';

/**
 * A file an agent changed: its name, its folder and line counts; the status
 * letter comes from ChangeDecorations through its resource URI, which also
 * gives the file's icon. Clicking opens its diff against the base.
 */
export class ChangedFileTreeItem extends vscode.TreeItem {
  constructor(
    readonly agentId: string,
    readonly file: ChangedFile,
    changes: AgentChanges,
  ) {
    super(posix.basename(file.path), vscode.TreeItemCollapsibleState.None);
    const folder = posix.dirname(file.path);
    const counts = countsOf(file);
    this.id = `changed:${agentId}:${file.path}`;
    this.resourceUri = vscode.Uri.from({ scheme: CHANGE_SCHEME, authority: agentId, path: `/${file.path}`, query: STATUS_LETTERS[file.status] });
    this.iconPath = vscode.ThemeIcon.File;
    this.description = folder === '.' ? counts : `${folder} · ${counts}`;
    const renamed = file.oldPath ? ` (from ${file.oldPath})` : '';
    this.tooltip = `${file.path}${renamed}\n${file.status}${counts === 'binary' ? ', binary' : `: ${file.added} added, ${file.removed} removed`}`;
    this.contextValue = 'changedFile';
    this.accessibilityInformation = { label: `${file.path}, ${file.status}, ${counts}` };
    const sides = liveReviewSidesOf(changes.work, file);
    this.command = {
      command: 'vscode.diff',
      title: 'Open Changes',
      arguments: [sides.left ?? emptySide(sides.resource), sides.right ?? emptySide(sides.resource), `${posix.basename(file.path)} (${agentId}: base ↔ agent)`],
    };
  }
}

/** The missing side of an added or deleted file: an empty document of the same name. */
function emptySide(resource: vscode.Uri): vscode.Uri {
  return resource.with({ query: '' });
}
