import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { rowDescription } from '../../src/vscode/views/agentRowText';
import { waitFor } from '../support/waitFor';
import { gitisoSuite } from './gitisoSuite';

describe('resource stats in a real VS Code', () => {
  const prefix = `t-vss-${Date.now().toString(36)}`;
  const suite = gitisoSuite({ prefix, repos: { stats: {} } });
  const id = (name: string): string => `${prefix}-${name}`;

  it('shows the agents\' CPU and memory in the status bar, its tooltip and the tree', async () => {
    await vscode.commands.executeCommand('gitiso.createAgent', { id: id('one'), repoUrl: suite.server.url('stats') });
    // Sampling follows focus and visibility, which a test window may lack: ask for two samples (CPU is a rate).
    await suite.api.gitiso.stats.sample();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await suite.api.gitiso.stats.sample();
    await waitFor('figures in the status bar', () => /^\$\(server-process\) \d+ agents? · \d+% · [\d.]+ (B|KB|MB|GB)$/.test(suite.api.statusBar().text));
    assert.match(suite.api.statusBar().tooltip, new RegExp(`\\| ${id('one')} \\| ready \\| \`gitiso/${id('one')}\` \\| \\d+% \\| [\\d.]+ (B|KB|MB) / 256 MB \\|`));
    const row = suite.api.treeItems().find((item) => item.agent.id === id('one'));
    assert.match(String(row?.description), /^ready · \d+% · [\d.]+[BKM]$/);
  });

  it('refreshes only the rows whose figures read differently on a stats sample, never the whole tree', async () => {
    const rowBefore = suite.api.treeItems().find((item) => item.agent.id === id('one'));
    assert.ok(rowBefore, 'the agent has no row');
    // The engine's events may change the agents meanwhile: only those may redraw the whole tree.
    let agentChanges = 0;
    const watch = suite.api.gitiso.onDidChangeAgents(() => agentChanges++);
    const before = suite.api.treeRefreshes();
    let redrawn = 0;
    try {
      for (let round = 0; round < 3; round++) {
        const look: string = rowBefore.look;
        const [rows, changes] = [suite.api.treeRefreshes().rows, agentChanges];
        await suite.api.gitiso.stats.sample();
        const refreshed = suite.api.treeRefreshes().rows - rows;
        // The row shows the sample's figures, and reached the view only when they read differently.
        assert.equal(rowBefore.description, rowDescription({ agent: rowBefore.agent, stats: suite.api.gitiso.stats.current.get(id('one')) }));
        if (agentChanges === changes) {
          assert.equal(refreshed, rowBefore.look === look ? 0 : 1, `look ${rowBefore.look === look ? 'kept' : 'changed'}, ${refreshed} row refreshes`);
        }
        redrawn += refreshed;
      }
    } finally {
      watch.dispose();
    }
    const after = suite.api.treeRefreshes();
    assert.ok(after.full - before.full <= agentChanges, 'a stats sample refreshed the whole tree');
    console.log(`      3 samples: ${redrawn} row refreshes`);
    // The view refreshes a row only by the object it was given: the row must stay the same object.
    assert.equal(suite.api.treeItems().find((item) => item.agent.id === id('one')), rowBefore);
  });

  it('opens Show Stats for the agent and changes its limits', async () => {
    await vscode.commands.executeCommand('gitiso.showStats', id('one'));
    assert.deepEqual(suite.api.statsPanels.openFor(), [id('one')]);
    const limits = await vscode.commands.executeCommand<{ memoryBytes: number } | undefined>('gitiso.changeLimits', id('one'), { memoryBytes: 384 * 1024 ** 2 });
    assert.equal(limits?.memoryBytes, 384 * 1024 ** 2);
    assert.equal((await suite.engine.inspectContainer(`gitiso-${id('one')}`))?.HostConfig.Memory, 384 * 1024 ** 2);
  });

  it('hides the status bar item when asked', async () => {
    const config = vscode.workspace.getConfiguration('gitiso');
    assert.equal(suite.api.statusBar().shown, true);
    await config.update('statusBar.show', false, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('the item to hide', () => !suite.api.statusBar().shown);
    } finally {
      await config.update('statusBar.show', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('the item to show again', () => suite.api.statusBar().shown);
  });
});
