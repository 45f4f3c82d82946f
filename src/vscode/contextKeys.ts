import * as vscode from 'vscode';

/** Context keys that drive the welcome views and menus. Remembered so tests can read them back. */
export class ContextKeys {
  private readonly values = new Map<string, unknown>();

  set(key: 'gitiso.engineState' | 'gitiso.agentCount' | 'gitiso.hasRepository', value: unknown): void {
    if (this.values.get(key) === value) {
      return;
    }
    this.values.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }

  snapshot(): Record<string, unknown> {
    return Object.fromEntries(this.values);
  }
}

/** Set by *Check the Docker Engine* once the engine answered: the walkthrough's first step completes on it. */
export const ENGINE_CHECKED_KEY = 'gitiso.engineChecked';
