import * as vscode from 'vscode';
import type { Agent } from '../../core/agent';
import { offeredPreset, presetNamed, type CodingAgentPreset } from '../../core/codingAgents/codingAgentPreset';
import { TaskRunner, type TaskOutcome } from '../../core/codingAgents/taskRunner';
import { toolInstallOf } from '../../core/codingAgents/toolInstall';
import { CancelledError, describeCause, isCancellation } from '../../core/errors';
import { parseSetupFile, SETUP_FILE } from '../../core/setup/repoSetup';
import { readCodingAgents } from '../config';
import { withCancellableProgress } from '../progress';
import { showErrorWithSettings } from '../showError';
import type { CommandContext } from './context';
import { createBurst } from './createBurst';
import { addRepositorySteps, requireTrustedWorkspace, type RepositoryChoice } from './createInputs';
import { BACK, inputStep, placeInput, runSteps, type StepPlace, type StepResult } from './multiStepInput';
import type { AgentTarget } from './pickAgents';

/** What a caller (a script, a test) may give instead of being asked. */
export interface NewTaskOptions {
  readonly prompt: string;
  readonly preset?: string;
  readonly count?: number;
  /** The new agents are PREFIX-1, PREFIX-2, …; `task` when absent. */
  readonly prefix?: string;
  readonly repoUrl?: string;
  readonly baseBranch?: string;
}

const TITLE = 'New Task';
const MAX_COUNT = 10;

/**
 * New Task…: a prompt, a coding agent and a count (the same task to N new
 * agents, best of N) and the repository and base; or, on selected rows, the
 * task to those agents. Each agent's coding agent starts in its own session.
 * The prompt is the editor's selection when there is one (a prompt of many
 * lines), else typed.
 */
export async function newTask(ctx: CommandContext, target?: AgentTarget | NewTaskOptions, selected?: readonly { agent: Agent }[]): Promise<TaskOutcome[]> {
  requireTrustedWorkspace();
  const given: Partial<NewTaskOptions> = isOptions(target) ? target : {};
  const onAgents = selected?.length ? selected.map((item) => item.agent) : target && !isOptions(target) ? [typeof target === 'string' ? await ctx.gitiso.on(target).agents.get(target) : target.agent] : [];
  const codingAgents = readCodingAgents();
  const selection = vscode.window.activeTextEditor?.document.getText(vscode.window.activeTextEditor.selection).trim();
  let prompt = given.prompt ?? selection ?? '';
  // A default that names no preset (a workspace's gitiso.codingAgent may) only moves the pick's start: it cannot stop New Task.
  let preset = given.preset !== undefined ? presetNamed(codingAgents.presets, given.preset) : offeredPreset(codingAgents.presets, [codingAgents.chosen, await repositoryDefault(codingAgents.presets)]);
  let count = given.count ?? 1;
  const steps: (() => Promise<StepResult<unknown>>)[] = [];
  const creates = onAgents.length === 0;
  const totalSteps = (given.prompt === undefined && !selection ? 1 : 0) + (given.preset === undefined ? 1 : 0) + (creates && given.count === undefined ? 1 : 0) + (creates && given.repoUrl === undefined ? 2 : 0);
  const place = (): StepPlace => ({ title: TITLE, step: steps.length + 1, totalSteps });
  if (given.prompt === undefined && !selection) {
    const at = place();
    steps.push(async () => {
      const typed = await inputStep({ ...at, title: `${TITLE}: Prompt` }, { value: prompt, prompt: 'What the coding agent should do (for a prompt of several lines, select it in an editor first)', validate: (text) => (text.trim() ? undefined : 'say what the coding agent should do') });
      prompt = typed === BACK ? prompt : typed;
      return typed;
    });
  }
  if (given.preset === undefined) {
    const at = place();
    steps.push(async () => {
      const chosen = await askPreset(at, codingAgents.presets, preset);
      preset = chosen === BACK ? preset : chosen;
      return chosen;
    });
  }
  if (creates && given.count === undefined) {
    const at = place();
    steps.push(async () => {
      const chosen = await inputStep({ ...at, title: `${TITLE}: How many agents?` }, { value: String(count), prompt: 'The same task to each (best of N): each in an agent of its own', validate: (text) => (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_COUNT ? undefined : `a number from 1 to ${MAX_COUNT}`) });
      count = chosen === BACK ? count : Number(chosen);
      return chosen;
    });
  }
  const repository: RepositoryChoice = { repoUrl: given.repoUrl ?? '', baseBranch: given.baseBranch };
  if (creates && given.repoUrl === undefined) {
    addRepositorySteps(steps, place, repository);
  }
  await runSteps(steps);
  const { repoUrl, baseBranch } = repository;
  const title = `${TITLE}: creating ${count === 1 ? 'its agent' : `${count} agents`}`;
  const agents = creates ? await createBurst(ctx, { prefix: given.prefix ?? 'task', count, repoUrl, baseBranch, title, toolInstall: toolInstallOf(preset) }) : onAgents;
  if (agents.length === 0) {
    return [];
  }
  const runner = new TaskRunner({
    sessions: { start: (agentId, session) => ctx.gitiso.on(agentId).sessions.start(agentId, session) },
    // An agent made before the task (or for another preset) gets the tool installed first.
    tools: { ensure: (agentId, chosen, signal) => ctx.gitiso.on(agentId).tools.ensure(agentId, chosen, signal) },
    access: preset.api ? ctx.apiAccess.access : undefined,
  });
  const outcomes = await withCancellableProgress({ title: `${TITLE}: starting ${preset.name}${creates ? '' : ' (installed first where an agent lacks it)'}` }, (signal) => runner.start({ prompt, preset, agentIds: agents.map((agent) => agent.id), signal }));
  void ctx.sessions.refresh();
  // Cancelled (Cancel on the progress): what was cancelled is no error to show.
  const failed = outcomes.filter((outcome): outcome is Extract<TaskOutcome, { error: Error }> => 'error' in outcome && !isCancellation(outcome.error));
  if (failed.length > 0) {
    void showErrorWithSettings(`gitiso: the task could not start in ${failed.map((outcome) => `${outcome.id}: ${describeCause(outcome.error)}`).join('; ')}`);
  } else if (outcomes.every((outcome) => !('error' in outcome))) {
    void vscode.window.showInformationMessage(`${preset.name} is working on the task in ${agents.map((agent) => agent.id).join(', ')}. Open Terminal on a row attaches to its session.`);
  }
  return outcomes;
}

/** The coding agent the open folder's .gitiso.json names (`codingAgent`), when it is one there is; a file that cannot be read names none. */
async function repositoryDefault(presets: readonly CodingAgentPreset[]): Promise<string | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) {
    return undefined;
  }
  try {
    const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, SETUP_FILE));
    const named = parseSetupFile(Buffer.from(bytes).toString('utf8')).codingAgent;
    return presets.some((preset) => preset.name === named) ? named : undefined;
  } catch {
    return undefined;
  }
}

function isOptions(value: unknown): value is NewTaskOptions {
  return typeof value === 'object' && value !== null && 'prompt' in value;
}

async function askPreset(place: StepPlace, presets: readonly CodingAgentPreset[], current: CodingAgentPreset): Promise<StepResult<CodingAgentPreset>> {
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { preset: CodingAgentPreset }>();
  placeInput(pick, { ...place, title: `${place.title}: Coding agent` });
  pick.placeholder = 'The coding agent that works on the task (gitiso.codingAgents adds your own)';
  pick.items = presets.map((preset) => ({ label: preset.name, description: preset.task.join(' '), detail: preset.api ? `calls ${new URL(preset.api.upstream).host} through gitiso's key proxy` : undefined, preset }));
  pick.activeItems = pick.items.filter((item) => item.preset === current);
  pick.show();
  try {
    return await new Promise<StepResult<CodingAgentPreset>>((resolve, reject) => {
      pick.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && resolve(BACK));
      pick.onDidAccept(() => pick.selectedItems[0] && resolve(pick.selectedItems[0].preset));
      pick.onDidHide(() => reject(new CancelledError(place.title)));
    });
  } finally {
    pick.dispose();
  }
}
