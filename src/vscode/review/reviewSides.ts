import type * as vscode from 'vscode';
import type { AgentWork, ChangedFile } from '../../core/roundTrip/roundTripTypes';
import { liveFileUri, objectUri } from './reviewUris';

/** The two sides of a changed file's diff: the base's blob (none for an added file) and the agent's (none for a deleted one). */
export interface ReviewSides {
  readonly left?: vscode.Uri;
  readonly right?: vscode.Uri;
  /** The file as the agent has it (its path after a rename). */
  readonly resource: vscode.Uri;
}

export function reviewSidesOf(work: AgentWork, file: ChangedFile): ReviewSides {
  const left = file.status === 'added' ? undefined : objectUri(work.id, work.base, file.oldPath ?? file.path);
  const right = file.status === 'deleted' ? undefined : objectUri(work.id, work.worktree, file.path);
  return { left, right, resource: right ?? objectUri(work.id, work.base, file.path) };
}

/** For one file's diff: the right side is the agent's live file when agents' files can be opened, so an edit lands in the agent. */
export function liveReviewSidesOf(work: AgentWork, file: ChangedFile): ReviewSides {
  const sides = reviewSidesOf(work, file);
  const live = sides.right && liveFileUri(work.id, file.path);
  return live ? { ...sides, right: live } : sides;
}
