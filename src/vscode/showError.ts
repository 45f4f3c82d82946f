import * as vscode from 'vscode';
import { isCancellation } from '../core/errors';

/** Cancellation is silent; anything else is logged and shown with a way to the log. */
export async function showError(log: vscode.LogOutputChannel, what: string, error: unknown): Promise<void> {
  if (isCancellation(error)) {
    log.info(`${what}: cancelled`);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  log.error(`${what}: ${message}`);
  const choice = await vscode.window.showErrorMessage(`gitiso: ${message}`, 'Show Log');
  if (choice === 'Show Log') {
    log.show();
  }
}
