import * as vscode from 'vscode';
import { CancelledError } from '../../core/errors';

/** What a step returns when the user pressed its Back button. */
export const BACK = Symbol('back');
export type StepResult<T> = T | typeof BACK;

/** Where a step is in its input: VS Code shows `step/totalSteps` beside the title. */
export interface StepPlace {
  readonly title: string;
  readonly step: number;
  readonly totalSteps: number;
}

/** Runs steps in order; a step that returns BACK goes to the one before (the first has no Back button). */
export async function runSteps(steps: readonly (() => Promise<StepResult<unknown>>)[]): Promise<void> {
  let at = 0;
  while (at < steps.length) {
    const step = steps[at];
    const result = step ? await step() : undefined;
    at = result === BACK ? Math.max(0, at - 1) : at + 1;
  }
}

/** Applies a step's place to a quick input: title, step numbers and the Back button after the first step. */
export function placeInput(input: vscode.QuickInput & { buttons: readonly vscode.QuickInputButton[] }, place: StepPlace): void {
  input.title = place.title;
  input.step = place.step;
  input.totalSteps = place.totalSteps;
  input.ignoreFocusOut = true;
  input.buttons = place.step > 1 ? [vscode.QuickInputButtons.Back] : [];
}

/** One text step: resolves the accepted (valid) text or BACK; closing it cancels the whole input. */
export async function inputStep(place: StepPlace, options: { readonly value: string; readonly prompt?: string; readonly placeholder?: string; readonly validate: (value: string) => string | undefined }): Promise<StepResult<string>> {
  const box = vscode.window.createInputBox();
  placeInput(box, place);
  box.value = options.value;
  box.prompt = options.prompt;
  box.placeholder = options.placeholder;
  box.validationMessage = options.validate(options.value);
  const disposables: vscode.Disposable[] = [];
  try {
    return await new Promise<StepResult<string>>((resolve, reject) => {
      disposables.push(
        box.onDidChangeValue((value) => (box.validationMessage = options.validate(value))),
        box.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && resolve(BACK)),
        box.onDidAccept(() => {
          const message = options.validate(box.value);
          box.validationMessage = message;
          if (message === undefined) {
            resolve(box.value);
          }
        }),
        box.onDidHide(() => reject(new CancelledError(place.title))),
      );
      box.show();
    });
  } finally {
    disposables.forEach((disposable) => disposable.dispose());
    box.dispose();
  }
}
