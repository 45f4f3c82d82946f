import * as vscode from 'vscode';
import { GITISO_VERSION } from './core/version';

/** Entry point. The UI (agents tree, commands, status bar) comes with the VS Code issue. */
export function activate(context: vscode.ExtensionContext): { version: string } {
  const log = vscode.window.createOutputChannel('gitiso', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('gitiso.showVersion', () => vscode.window.showInformationMessage(`gitiso ${GITISO_VERSION}`)),
  );
  log.info(`gitiso ${GITISO_VERSION} activated`);
  return { version: GITISO_VERSION };
}

export function deactivate(): void {
  // Everything registered is disposed through context.subscriptions.
}
