import * as vscode from 'vscode';
import { describeCause, TooLargeError } from '../../core/errors';
import { formatBytes } from '../../core/limits/agentLimits';
import type { Gitiso } from '../composition';
import type { AgentChangesCache } from './agentChanges';
import { OBJECT_SCHEME, parseObjectUri } from './reviewUris';

/** Past this a side of a diff is not shown: the editor would crawl, and the agent chose the size. */
export const MAX_SHOWN_BYTES = 5 * 1024 * 1024;

/**
 * Serves the sides of a review from the objects the host's pool holds (no
 * round trip to the container per file). Read-only: an edit goes to the
 * agent's live file, never to history. The URI names an agent and a commit,
 * never a path on disk: which pool is read is the host's to decide.
 */
export class ObjectContentProvider implements vscode.TextDocumentContentProvider {
  constructor(
    private readonly gitiso: Gitiso,
    private readonly changes: AgentChangesCache,
  ) {}

  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(OBJECT_SCHEME, this);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const target = parseObjectUri(uri);
    if (!target) {
      return '';
    }
    const repoUrl = this.changes.get(target.agentId)?.work.repoUrl ?? this.gitiso.model.agents.find((agent) => agent.id === target.agentId)?.repoUrl;
    if (!repoUrl) {
      return `(agent ${target.agentId} is gone: its work is no longer known)`;
    }
    try {
      const poolPath = this.gitiso.pool.pathFor(repoUrl);
      const content = await this.gitiso.roundTrip.readFileAt({ poolPath, commit: target.commit, path: target.path, maxBytes: MAX_SHOWN_BYTES });
      if (content === undefined) {
        return '';
      }
      // Git's own test for binary content: a NUL in the first 8000 bytes.
      if (content.subarray(0, 8000).includes(0)) {
        return `(binary file, ${formatBytes(content.length)})`;
      }
      return content.toString('utf8');
    } catch (error) {
      if (error instanceof TooLargeError) {
        return `(not shown: larger than ${formatBytes(MAX_SHOWN_BYTES)})`;
      }
      return `(could not read ${target.path} at ${target.commit.slice(0, 12)}: ${describeCause(error)})`;
    }
  }
}
