import * as vscode from 'vscode';
import { CancelledError, describeCause } from '../../core/errors';
import { formatBytes, parseCpus, parseMemory, parsePids, type AgentLimits } from '../../core/limits/agentLimits';
import type { CommandContext } from './context';
import { isRunning, pickAgent, type AgentTarget } from './pickAgents';

/** Change Limits…: memory, CPUs and processes of a running agent, changed in place (the engine updates its cgroup). */
export async function changeLimits(ctx: CommandContext, target?: AgentTarget, given?: Partial<AgentLimits>): Promise<AgentLimits> {
  const agent = await pickAgent(ctx.gitiso, target, 'Change Limits', isRunning);
  const change = given ?? (await askLimits(agent.id, agent.limits));
  const limits = await ctx.gitiso.on(agent.id).agents.updateLimits(agent.id, change);
  void vscode.window.showInformationMessage(`${agent.id} may now use ${formatBytes(limits.memoryBytes)}, ${limits.cpus} CPUs and ${limits.pids} processes.`);
  return limits;
}

async function askLimits(agentId: string, current: AgentLimits | undefined): Promise<Partial<AgentLimits>> {
  const title = `Change Limits of ${agentId}`;
  const ask = async (step: number, prompt: string, value: string, validate: (text: string) => string | undefined): Promise<string> => {
    const answer = await vscode.window.showInputBox({ title: `${title} (${step}/3)`, prompt, value, validateInput: validate, ignoreFocusOut: true });
    if (answer === undefined) {
      throw new CancelledError(title);
    }
    return answer.trim();
  };
  // The core's parsers: the same rules and bounds as the CLI's flags.
  const problem = (parse: (text: string) => number) => (text: string) => {
    try {
      parse(text);
      return undefined;
    } catch (error) {
      return describeCause(error);
    }
  };
  const memory = await ask(1, 'Memory (for example 2g or 512m)', current ? formatBytes(current.memoryBytes).replace(/ ([GM])B$/, (_, unit: string) => unit.toLowerCase()) : '2g', problem(parseMemory));
  const cpus = await ask(2, 'CPUs (for example 1.5)', String(current?.cpus ?? 2), problem(parseCpus));
  const pids = await ask(3, 'Most processes', String(current?.pids ?? 512), problem(parsePids));
  return { memoryBytes: parseMemory(memory), cpus: parseCpus(cpus), pids: parsePids(pids) };
}
