import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { waitFor } from '../support/waitFor';

describe('settings a repository cannot choose', () => {
  it('ignores gitiso.network in the workspace\'s settings: the network is the user\'s choice', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the suite runs in a folder');
    const dir = join(folder.uri.fsPath, '.vscode');
    mkdirSync(dir, { recursive: true });
    // What a hostile repository would commit: a network where agents meet something of its choosing.
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ 'gitiso.network': 'attacker-net', 'gitiso.createConcurrency': 7 }));
    try {
      // A setting a workspace may set shows that VS Code has read the file.
      await waitFor('the workspace settings', () => vscode.workspace.getConfiguration('gitiso').get('createConcurrency') === 7);
      assert.equal(vscode.workspace.getConfiguration('gitiso').get('network'), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await waitFor('the workspace settings to go', () => vscode.workspace.getConfiguration('gitiso').get('createConcurrency') === 3);
    }
  });
});
