import * as vscode from 'vscode';
import { simpleGit } from 'simple-git';
import { hostGit } from '../core/git/hostGit';

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

/** Branch names on a remote, read from the host (where credentials live). */
export async function listRemoteBranches(url: string): Promise<string[]> {
  const output = await hostGit().listRemote(['--heads', '--', url]);
  return output
    .split('\n')
    .map((line) => /\trefs\/heads\/(.+)$/.exec(line)?.[1])
    .filter((name): name is string => Boolean(name));
}
