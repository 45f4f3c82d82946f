import * as vscode from 'vscode';
import { OBJECT_ID } from '../../core/git/objectId';

/** Read-only blobs of an agent's work in the host's pool: `gitiso-object://<agent>/<path>?<commit>`. */
export const OBJECT_SCHEME = 'gitiso-object';
/** An agent's live files (its working tree), served by the agent file system provider when there is one. */
export const AGENT_SCHEME = 'gitiso-agent';
/** A changed file's row in the tree, carrying its status for the decorations: `gitiso-change://<agent>/<path>?<status>`. */
export const CHANGE_SCHEME = 'gitiso-change';

/** A file as it is at `commit` in the agent's work on the host. */
export function objectUri(agentId: string, commit: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: OBJECT_SCHEME, authority: agentId, path: `/${path}`, query: commit });
}

/** What an object URI names; undefined for one gitiso did not make (the commit must be a full object id). */
export function parseObjectUri(uri: vscode.Uri): { agentId: string; commit: string; path: string } | undefined {
  const path = uri.path.replace(/^\//, '');
  if (uri.scheme !== OBJECT_SCHEME || !uri.authority || !OBJECT_ID.test(uri.query) || !path) {
    return undefined;
  }
  return { agentId: uri.authority, commit: uri.query, path };
}

/** The agent's live file, editable in place; undefined while no file system serves agents' files. */
export function liveFileUri(agentId: string, path: string): vscode.Uri | undefined {
  return vscode.workspace.fs.isWritableFileSystem(AGENT_SCHEME) === undefined ? undefined : vscode.Uri.from({ scheme: AGENT_SCHEME, authority: agentId, path: `/${path}` });
}
