import * as vscode from 'vscode';
import { simpleGit } from 'simple-git';
import { CancelledError } from '../core/errors';
import { hostGit } from '../core/git/nonInteractiveGit';

export interface WorkspaceRepo {
  readonly folder: string;
  readonly originUrl?: string;
  readonly currentBranch?: string;
}

/** The open folder's git repository, if any: its `origin` URL and current branch, read with the host's git. */
export async function readWorkspaceRepo(): Promise<WorkspaceRepo | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder || folder.scheme !== 'file') {
    return undefined;
  }
  const git = simpleGit({ baseDir: folder.fsPath });
  try {
    if (!(await git.checkIsRepo())) {
      return undefined;
    }
    const [remotes, branch] = await Promise.all([git.getRemotes(true), git.revparse(['--abbrev-ref', 'HEAD']).catch(() => '')]);
    const origin = remotes.find((remote) => remote.name === 'origin') ?? remotes[0];
    return { folder: folder.fsPath, originUrl: origin?.refs.fetch || undefined, currentBranch: branch && branch !== 'HEAD' ? branch : undefined };
  } catch {
    return undefined;
  }
}

/**
 * The open folder that is a checkout of `repoUrl` (one of its remotes fetches
 * from it), at its top: where the setup's files to copy (such as `.env`) are
 * taken from.
 * Undefined when no open folder is, so nothing is copied from an unrelated one.
 */
export async function folderOfRepository(repoUrl: string): Promise<string | undefined> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') {
      continue;
    }
    try {
      const git = simpleGit({ baseDir: folder.uri.fsPath });
      if ((await git.checkIsRepo()) && (await git.getRemotes(true)).some((remote) => remote.refs.fetch === repoUrl)) {
        // The checkout's top, as /workspace is: .gitiso.json's paths are relative to it.
        return (await git.revparse(['--show-toplevel'])).trim() || folder.uri.fsPath;
      }
    } catch {
      // Not a repository we can read: not the one.
    }
  }
  return undefined;
}

/** Branch names on a remote, read from the host (where credentials live). */
export async function listRemoteBranches(url: string): Promise<string[]> {
  const output = await (await hostGit()).listRemote(['--heads', '--', url]);
  return output
    .split('\n')
    .map((line) => /\trefs\/heads\/(.+)$/.exec(line)?.[1])
    .filter((name): name is string => Boolean(name));
}

/**
 * The open folder's repository an agent's work goes into, at its top: the
 * one with a remote fetching from the agent's repository; else the only
 * repository open; else the user picks. Undefined when no folder is one.
 */
export async function workspaceRepoFor(repoUrl: string, title: string): Promise<string | undefined> {
  const repos: { top: string; remotes: string[] }[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') {
      continue;
    }
    try {
      const git = simpleGit({ baseDir: folder.uri.fsPath });
      if (await git.checkIsRepo()) {
        const top = (await git.revparse(['--show-toplevel'])).trim() || folder.uri.fsPath;
        repos.push({ top, remotes: (await git.getRemotes(true)).map((remote) => remote.refs.fetch) });
      }
    } catch {
      // Not a repository we can read.
    }
  }
  const same = (url: string): boolean => sameRepository(url, repoUrl);
  const matching = repos.find((repo) => repo.remotes.some(same));
  if (matching || repos.length <= 1) {
    return (matching ?? repos[0])?.top;
  }
  const picked = await vscode.window.showQuickPick(
    repos.map((repo) => ({ label: repo.top, description: repo.remotes[0] ?? 'no remote' })),
    { title, placeHolder: 'No open repository fetches from the agent’s: pick the one to use' },
  );
  if (!picked) {
    throw new CancelledError(title);
  }
  return picked.label;
}

/** Two remote URLs naming the same repository, whatever a trailing `.git` or `/`. */
function sameRepository(a: string, b: string): boolean {
  const plain = (url: string): string => url.trim().replace(/\/+$/, '').replace(/\.git$/, '');
  return plain(a) === plain(b);
}
