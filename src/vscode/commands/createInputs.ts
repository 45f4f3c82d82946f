import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { CancelledError, GitisoError, describeCause } from '../../core/errors';
import { validateAgentId, validateRepoUrl } from '../../core/names';
import { readSettings } from '../config';
import { listRemoteBranches, readWorkspaceRepo } from '../workspaceRepo';

const TITLE = 'Create Agent';

/** Agents are created only in a trusted workspace (package.json declares limited support for untrusted ones). */
export function requireTrustedWorkspace(): void {
  if (!vscode.workspace.isTrusted) {
    throw new GitisoError('gitiso creates agents only in a trusted workspace: trust this folder (Workspaces: Manage Workspace Trust) first');
  }
}

/** Step 1: the repository, defaulting to the open folder's origin. */
export async function askRepository(title = TITLE): Promise<string> {
  const repo = await readWorkspaceRepo();
  const url = await vscode.window.showInputBox({
    title: `${title} (1/3): Repository`,
    prompt: 'URL of the repository the agent clones (https, ssh or git). Credentials stay on this machine.',
    value: repo?.originUrl ?? '',
    placeHolder: 'https://example.com/team/project.git',
    ignoreFocusOut: true,
    validateInput: (value) => messageOf(() => validateRepoUrl(value)),
  });
  if (url === undefined) {
    throw new CancelledError(title);
  }
  return url.trim();
}

/** Step 2: the base branch, picked from the remote's branches; anything typed is accepted too. */
export async function askBaseBranch(repoUrl: string, title = TITLE): Promise<string | undefined> {
  const repo = await readWorkspaceRepo();
  const preferred = readSettings().defaultBaseBranch || (repo?.originUrl === repoUrl ? repo.currentBranch : undefined);
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
  pick.title = `${title} (2/3): Base branch`;
  pick.placeholder = 'Branch the agent starts from (type a name, or leave empty for the remote default)';
  pick.ignoreFocusOut = true;
  pick.busy = true;
  const remoteDefault: vscode.QuickPickItem = { label: '$(star) remote default', description: "the remote's HEAD" };
  pick.items = preferred ? [{ label: preferred, description: 'current branch' }, remoteDefault] : [remoteDefault];
  listRemoteBranches(repoUrl).then(
    (branches) => {
      const rest = branches.filter((branch) => branch !== preferred).map((branch) => ({ label: branch }));
      pick.items = [...(preferred ? [{ label: preferred, description: 'current branch' }] : []), ...rest, remoteDefault];
      pick.busy = false;
    },
    () => {
      pick.busy = false;
    },
  );
  pick.show();
  const chosen = await new Promise<string | undefined | null>((resolve) => {
    pick.onDidAccept(() => {
      const item = pick.selectedItems[0];
      resolve(item ? (item === remoteDefault || item.label === remoteDefault.label ? undefined : item.label) : pick.value.trim() || undefined);
      pick.hide();
    });
    pick.onDidHide(() => resolve(null));
  });
  pick.dispose();
  if (chosen === null) {
    throw new CancelledError(title);
  }
  return chosen;
}

/** Step 3: the agent id, a free `agent-N` suggested, checked as it is typed. */
export async function askAgentId(agents: readonly Agent[], title = TITLE): Promise<string> {
  const taken = new Set(agents.map((agent) => agent.id));
  const id = await vscode.window.showInputBox({
    title: `${title} (3/3): Agent id`,
    prompt: 'Names the container (gitiso-ID) and the branch (gitiso/ID)',
    value: freeIds(taken, 'agent', 1)[0],
    ignoreFocusOut: true,
    validateInput: (value) => (taken.has(value) ? `agent '${value}' already exists` : messageOf(() => validateAgentId(value))),
  });
  if (id === undefined) {
    throw new CancelledError(title);
  }
  return id;
}

/** `count` ids `prefix-N` that are not taken, lowest N first. */
export function freeIds(taken: ReadonlySet<string>, prefix: string, count: number): string[] {
  const ids: string[] = [];
  for (let n = 1; ids.length < count; n++) {
    const id = `${prefix}-${n}`;
    if (!taken.has(id)) {
      ids.push(id);
    }
  }
  return ids;
}

function messageOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return describeCause(error);
  }
}
