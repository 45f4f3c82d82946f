import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { EXTENSION_ID, WALKTHROUGH_ID } from '../../src/vscode/extensionId';
import { waitFor } from '../support/waitFor';

interface Walkthrough {
  id: string;
  steps: { id: string; completionEvents?: string[] }[];
}

describe('getting started', () => {
  let extension: vscode.Extension<GitisoApi>;

  before(async () => {
    const found = vscode.extensions.getExtension<GitisoApi>(EXTENSION_ID);
    assert.ok(found, EXTENSION_ID);
    extension = found;
    await extension.activate();
  });

  it('contributes the walkthrough, each step with a completion event', () => {
    const walkthroughs = (extension.packageJSON as { contributes?: { walkthroughs?: Walkthrough[] } }).contributes?.walkthroughs ?? [];
    const walkthrough = walkthroughs.find((entry) => entry.id === WALKTHROUGH_ID);
    assert.ok(walkthrough, JSON.stringify(walkthroughs.map((entry) => entry.id)));
    assert.deepEqual(walkthrough.steps.map((step) => step.id), ['engine', 'image', 'createAgent', 'terminal', 'preview', 'review']);
    assert.ok(walkthrough.steps.every((step) => (step.completionEvents ?? []).length > 0));
  });

  it('opens it with gitiso: Get Started', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const labels = (): string[] => vscode.window.tabGroups.all.flatMap((group) => group.tabs.map((tab) => tab.label));
    assert.deepEqual(labels(), []);
    await vscode.commands.executeCommand('gitiso.getStarted');
    await waitFor('the walkthrough editor to open', () => labels().length > 0);
    console.log(`gitiso: Get Started opened ${JSON.stringify(labels())}`);
    assert.ok(labels().some((label) => /walkthrough|welcome|get started/i.test(label)), JSON.stringify(labels()));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
