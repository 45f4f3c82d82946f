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
export async function checkEngine(ctx: CommandContext): Promise<void> {
  const { engine } = ctx.gitiso;
  try {
    await engine.ping();
  } catch (error) {
    throw new Error(`${describeCause(error)}; or point gitiso at another engine with gitiso.dockerHost`, { cause: error });
  }
  const { cpus, memoryBytes } = await engine.capacity();
  await vscode.commands.executeCommand('setContext', ENGINE_CHECKED_KEY, true);
  await ctx.gitiso.model.refresh();
  void vscode.window.showInformationMessage(`The Docker engine at ${engine.address} answers: ${cpus} CPUs, ${(memoryBytes / 2 ** 30).toFixed(1)} GB of memory for agents.`);
}
