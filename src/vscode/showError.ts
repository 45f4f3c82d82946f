import * as vscode from 'vscode';
import { isCancellation } from '../core/errors';
import { EXTENSION_ID } from './extensionId';
import { settingsNamedIn } from './settingsInMessage';

const OPEN_SETTINGS = 'Open Settings';

/** Cancellation is silent; anything else is logged and shown with a way to the log (and to the setting it names). */
export async function showError(log: vscode.LogOutputChannel, what: string, error: unknown): Promise<void> {
  if (isCancellation(error)) {
    log.info(`${what}: cancelled`);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  log.error(`${what}: ${message}`);
  const choice = await showErrorWithSettings(`gitiso: ${message}`, 'Show Log');
  if (choice === 'Show Log') {
    log.show();
  }
}

/**
 * An error message that, when it names one of gitiso's settings, offers *Open
 * Settings* filtered to it (handled here); resolves to any other button chosen.
 */
export async function showErrorWithSettings(message: string, ...buttons: string[]): Promise<string | undefined> {
  const setting = settingsNamedIn(message, contributedSettings())[0];
  const choice = await vscode.window.showErrorMessage(message, ...(setting ? [OPEN_SETTINGS] : []), ...buttons);
  if (choice === OPEN_SETTINGS && setting) {
    await vscode.commands.executeCommand('workbench.action.openSettings', setting);
    return undefined;
  }
  return choice;
}

function contributedSettings(): ReadonlySet<string> {
  const manifest = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes?: { configuration?: { properties?: Record<string, unknown> } } } | undefined;
  return new Set(Object.keys(manifest?.contributes?.configuration?.properties ?? {}));
}
