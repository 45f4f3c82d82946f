import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { CancelledError, GitisoError, describeCause } from '../../core/errors';
import { validateAgentId, validateRepoUrl } from '../../core/names';
import { readSettings } from '../config';
import { BACK, inputStep, placeInput, type StepPlace, type StepResult } from './multiStepInput';
import { listRemoteBranches, readWorkspaceRepo } from '../workspaceRepo';

const TITLE = 'Create Agent';

/** Agents are created only in a trusted workspace (package.json declares limited support for untrusted ones). */
export function requireTrustedWorkspace(): void {
  if (!vscode.workspace.isTrusted) {
    throw new GitisoError('gitiso creates agents only in a trusted workspace: trust this folder (Workspaces: Manage Workspace Trust) first');
  }
}

/** Where Create Agent's steps are by default. */
const CREATE_AGENT_STEPS = 3;

/** The repository, defaulting to what was typed before (back from a later step), else the open folder's origin (Create Agent's step 1). */
export async function askRepository(place: StepPlace = { title: TITLE, step: 1, totalSteps: CREATE_AGENT_STEPS }, typed = ''): Promise<StepResult<string>> {
  const repo = await readWorkspaceRepo();
  const url = await inputStep(
    { ...place, title: `${place.title}: Repository` },
    {
      prompt: 'URL of the repository the agent clones (https, ssh or git). Credentials stay on this machine.',
      value: typed || (repo?.originUrl ?? ''),
      placeholder: 'https://example.com/team/project.git',
      validate: (value) => messageOf(() => validateRepoUrl(value)),
    },
  );
  return url === BACK ? BACK : url.trim();
}

/** The base branch, picked from the remote's branches; anything typed is accepted too; undefined for the remote's default (Create Agent's step 2). */
export async function askBaseBranch(repoUrl: string, place: StepPlace = { title: TITLE, step: 2, totalSteps: CREATE_AGENT_STEPS }): Promise<StepResult<string | undefined>> {
  const repo = await readWorkspaceRepo();
  const preferred = readSettings().defaultBaseBranch || (repo?.originUrl === repoUrl ? repo.currentBranch : undefined);
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
  placeInput(pick, { ...place, title: `${place.title}: Base branch` });
  pick.placeholder = 'Branch the agent starts from (type a name, or leave empty for the remote default)';
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
  const chosen = await new Promise<StepResult<string | undefined> | null>((resolve) => {
    pick.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && resolve(BACK));
    pick.onDidAccept(() => {
      const item = pick.selectedItems[0];
      resolve(item ? (item === remoteDefault || item.label === remoteDefault.label ? undefined : item.label) : pick.value.trim() || undefined);
    });
    pick.onDidHide(() => resolve(null));
  });
  pick.dispose();
  if (chosen === null) {
    throw new CancelledError(place.title);
  }
  return chosen;
}

/** Where the repository steps leave their answers (kept across Back). */
export interface RepositoryChoice {
  repoUrl: string;
  baseBranch?: string;
}

/** Adds the two steps of a repository and its base branch to a multi-step input; `place` numbers each as it is added. */
export function addRepositorySteps(steps: (() => Promise<StepResult<unknown>>)[], place: () => StepPlace, choice: RepositoryChoice): void {
  const repoAt = place();
  steps.push(async () => {
    const chosen = await askRepository(repoAt, choice.repoUrl);
    choice.repoUrl = chosen === BACK ? choice.repoUrl : chosen;
    return chosen;
  });
  const branchAt = place();
  steps.push(async () => {
    const chosen = await askBaseBranch(choice.repoUrl, branchAt);
    choice.baseBranch = chosen === BACK ? choice.baseBranch : chosen;
    return chosen;
  });
}

/** The agent id, a free `agent-N` suggested, checked as it is typed (Create Agent's step 3). */
export async function askAgentId(agents: readonly Agent[], place: StepPlace = { title: TITLE, step: 3, totalSteps: CREATE_AGENT_STEPS }): Promise<StepResult<string>> {
  const taken = new Set(agents.map((agent) => agent.id));
  return inputStep(
    { ...place, title: `${place.title}: Agent id` },
    {
      prompt: 'Names the container (gitiso-ID) and the branch (gitiso/ID)',
      value: freeIds(taken, 'agent', 1)[0] ?? 'agent-1',
      validate: (value) => (taken.has(value) ? `agent '${value}' already exists` : messageOf(() => validateAgentId(value))),
    },
  );
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
