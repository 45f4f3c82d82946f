import * as vscode from 'vscode';
import { describeCause } from '../../core/errors';
import { ENGINE_CHECKED_KEY } from '../contextKeys';
import type { CommandContext } from './context';

/**
 * Check the Engine (the walkthrough's first step): asks the engine gitiso uses
 * whether it answers and what it has, says so, and ticks the step off. A key of
 * its own, not `gitiso.engineState`: the walkthrough never ticks a step whose
 * context was already true when it was registered.
 */
export async function checkEngine(ctx: CommandContext, row?: { readonly engineName?: string }): Promise<void> {
  // From an engine's row: that engine only; otherwise every engine.
  const engines = ctx.gitiso.engines.filter(({ name }) => row?.engineName === undefined || name === row.engineName);
  const answers = await Promise.all(
    engines.map(async ({ name, core: { engine } }) => {
      try {
        await engine.ping();
        const { cpus, memoryBytes } = await engine.capacity();
        return { name, ok: true, text: `${engine.address} answers: ${cpus} CPUs, ${(memoryBytes / 2 ** 30).toFixed(1)} GB of memory for agents` };
      } catch (error) {
        return { name, ok: false, text: describeCause(error) };
      }
    }),
  );
  await ctx.gitiso.model.refresh();
  const [local] = answers;
  if (answers.length === 1 && local) {
    if (!local.ok) {
      throw new Error(`${local.text}; or point gitiso at another engine with gitiso.dockerHost`);
    }
    await vscode.commands.executeCommand('setContext', ENGINE_CHECKED_KEY, true);
    void vscode.window.showInformationMessage(`The Docker engine at ${local.text}.`);
    return;
  }
  const said = answers.map((answer) => `${answer.name}: ${answer.ok ? answer.text : `does not answer (${answer.text})`}`).join('; ');
  if (!answers.some((answer) => answer.ok)) {
    throw new Error(`no engine answers: ${said}. Start Docker, or check gitiso.dockerHost and gitiso.engines`);
  }
  await vscode.commands.executeCommand('setContext', ENGINE_CHECKED_KEY, true);
  void (answers.every((answer) => answer.ok) ? vscode.window.showInformationMessage(`Every engine answers: ${said}.`) : vscode.window.showWarningMessage(`${said}.`));
}
