import * as vscode from 'vscode';
import { EXTENSION_ID, WALKTHROUGH_ID } from '../extensionId';

/** Opens the getting-started walkthrough (package.json `contributes.walkthroughs`). */
export async function getStarted(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${WALKTHROUGH_ID}`, false);
}
