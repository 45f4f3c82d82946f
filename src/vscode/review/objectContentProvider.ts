import * as vscode from 'vscode';
import { describeCause, TooLargeError } from '../../core/errors';
import { formatBytes } from '../../core/limits/agentLimits';
import { readFilesAtCommit, type FileAtCommit } from '../../core/roundTrip/filesAtCommit';
import type { AgentWork, ChangedFile } from '../../core/roundTrip/roundTripTypes';
import { workRepoPath } from '../../core/roundTrip/workRepo';
import type { Gitiso } from '../composition';
import type { AgentChangesCache } from './agentChanges';
import { reviewSidesOf } from './reviewSides';
import { OBJECT_SCHEME, parseObjectUri } from './reviewUris';

/** Past this a side of a diff is not shown: the editor would crawl, and the agent chose the size. */
export const MAX_SHOWN_BYTES = 5 * 1024 * 1024;
/** What one review reads ahead in all; the rest is read when its document opens. */
const MAX_PREFETCH_BYTES = 32 * 1024 * 1024;
/** What the documents read ahead may hold at once (oldest dropped first): blobs never change, so any of them stays right. */
const MAX_KEPT_CHARS = 64 * 1024 * 1024;

/**
 * Serves the sides of a review from the objects the host's pool holds (no
 * round trip to the container per file). Read-only: an edit goes to the
 * agent's live file, never to history. The URI names an agent and a commit,
 * never a path on disk: which pool is read is the host's to decide.
 * A review reads its files ahead in a few git processes (readFilesAtCommit);
 * a document opened later is read alone.
 */
export class ObjectContentProvider implements vscode.TextDocumentContentProvider {
  private readonly kept = new Map<string, string>();
  private keptChars = 0;

  constructor(
    private readonly gitiso: Gitiso,
    private readonly changes: AgentChangesCache,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(OBJECT_SCHEME, this);
  }

  /** Reads both sides of every changed file ahead, so that the editor's many documents cost a few git processes; failures only log. */
  async prefetch(work: AgentWork, files: readonly ChangedFile[], signal?: AbortSignal): Promise<void> {
    const byCommit = new Map<string, vscode.Uri[]>();
    for (const sides of files.map((file) => reviewSidesOf(work, file))) {
      for (const uri of [sides.left, sides.right]) {
        const target = uri && parseObjectUri(uri);
        if (uri && target && !this.kept.has(uri.toString())) {
          byCommit.set(target.commit, [...(byCommit.get(target.commit) ?? []), uri]);
        }
      }
    }
    await Promise.all(
      [...byCommit].map(async ([commit, uris]) => {
        try {
          const paths = uris.map((uri) => uri.path.replace(/^\//, ''));
          const read = await readFilesAtCommit({ poolPath: work.poolPath, commit, paths, maxBytes: MAX_SHOWN_BYTES, maxTotalBytes: MAX_PREFETCH_BYTES, signal });
          for (const [index, uri] of uris.entries()) {
            const content = read.get(paths[index] ?? '');
            if (content !== undefined) {
              this.keep(uri.toString(), textOf(content));
            }
          }
        } catch (error) {
          this.log.warn(`reading ${work.id}'s files at ${commit.slice(0, 12)} ahead: ${describeCause(error)}`);
        }
      }),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const target = parseObjectUri(uri);
    if (!target) {
      return '';
    }
    const kept = this.kept.get(uri.toString());
    if (kept !== undefined) {
      return kept;
    }
    const work = this.changes.get(target.agentId)?.work;
    const repoUrl = work?.repoUrl ?? this.gitiso.model.agents.find((agent) => agent.id === target.agentId)?.repoUrl;
    if (!repoUrl) {
      return `(agent ${target.agentId} is gone: its work is no longer known)`;
    }
    try {
      // Agents' work is kept beside the pool's mirror, never in it (workRepo.ts).
      const poolPath = work?.poolPath ?? workRepoPath(this.gitiso.pool, repoUrl);
      const content = await this.gitiso.local.core.roundTrip.readFileAt({ poolPath, commit: target.commit, path: target.path, maxBytes: MAX_SHOWN_BYTES });
      return textOf(content ?? 'missing');
    } catch (error) {
      if (error instanceof TooLargeError) {
        return textOf('too-large');
      }
      return `(could not read ${target.path} at ${target.commit.slice(0, 12)}: ${describeCause(error)})`;
    }
  }

  private keep(key: string, text: string): void {
    this.kept.set(key, text);
    this.keptChars += text.length;
    for (const [oldest, oldText] of this.kept) {
      if (this.keptChars <= MAX_KEPT_CHARS) {
        break;
      }
      this.kept.delete(oldest);
      this.keptChars -= oldText.length;
    }
  }
}

/** What a side shows: the text, or a line saying why not. */
function textOf(content: FileAtCommit): string {
  if (content === 'missing') {
    return '';
  }
  if (content === 'too-large') {
    return `(not shown: larger than ${formatBytes(MAX_SHOWN_BYTES)})`;
  }
  // Git's own test for binary content: a NUL in the first 8000 bytes.
  if (content.subarray(0, 8000).includes(0)) {
    return `(binary file, ${formatBytes(content.length)})`;
  }
  return content.toString('utf8');
}
