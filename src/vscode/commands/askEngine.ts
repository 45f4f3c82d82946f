import * as vscode from 'vscode';
import { CancelledError } from '../../core/errors';
import { ANY_ENGINE } from './admitAgents';
import type { CommandContext } from './context';
import { BACK, placeInput, type StepPlace, type StepResult } from './multiStepInput';

/** With several engines, Create Agent asks where: "any" first (the engine with the most memory left), then each engine and whether it answers. */
export async function askEngine(ctx: CommandContext, place: StepPlace): Promise<StepResult<string>> {
  const { model } = ctx.gitiso;
  const any: vscode.QuickPickItem & { name: string } = { label: '$(sparkle) Any engine', description: 'the one with the most memory left', name: ANY_ENGINE };
  const items = [
    any,
    ...ctx.gitiso.engines.map((engine) => {
      const status = model.statusOf(engine.name);
      const count = model.agentsOn(engine.name).length;
      return {
        label: `$(server) ${engine.name}`,
        description: engine.core.engine.address,
        detail: status.kind === 'unavailable' ? '$(warning) not answering' : `${count} agent${count === 1 ? '' : 's'}`,
        name: engine.name,
      };
    }),
  ];
  const pick = vscode.window.createQuickPick<(typeof items)[number]>();
  placeInput(pick, { ...place, title: `${place.title}: Engine` });
  pick.placeholder = 'Where the agent runs';
  pick.items = items;
  pick.show();
  const chosen = await new Promise<StepResult<string> | null>((resolve) => {
    pick.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && resolve(BACK));
    pick.onDidAccept(() => resolve(pick.selectedItems[0]?.name ?? null));
    pick.onDidHide(() => resolve(null));
  });
  pick.dispose();
  if (chosen === null) {
    throw new CancelledError(place.title);
  }
  return chosen;
}
