import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { Engine } from '../../src/core/docker/engine';
import { GitServer } from '../support/gitServer';
import { removeAgents, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';
import { httpGet } from '../support/http';

const FIXTURE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'devsite');

describe('dev servers and previews in a real VS Code', () => {
  let api: GitisoApi;
  let engine: Engine;
  let server: GitServer;
  const prefix = `t-vsp-${Date.now().toString(36)}`;
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension);
    api = await extension.activate();
    engine = new Engine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('preview', {
      '.gitiso.json': JSON.stringify({ dev: 'python3 server.py' }),
      'server.py': readFileSync(join(FIXTURE, 'server.py')),
      'index.html': '<h1>preview main</h1>\n',
    });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  it('starts the dev server, shows its forward under the agent and opens a preview tab', async () => {
    await vscode.commands.executeCommand('gitiso.createAgent', { id: id('web'), repoUrl: server.url('preview') });
    const started = await vscode.commands.executeCommand<{ port: number; forward?: { url: string } } | undefined>('gitiso.startDevServer', id('web'));
    assert.ok(started?.forward, 'the command did not forward the dev server');
    assert.equal(started.port, 3000);
    await waitFor('the forward row under the agent', () => api.forwardItems(id('web')).length === 1);
    const [row] = api.forwardItems(id('web'));
    assert.equal(row?.label, '3000');
    assert.equal(row?.description, `→ ${started.forward.url.replace('http://', '')}`);
    assert.equal(api.treeItems().find((item) => item.agent.id === id('web'))?.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
    assert.equal(await httpGet(`${started.forward.url}/index.html`), '<h1>preview main</h1>\n');

    await vscode.commands.executeCommand('gitiso.openPreview', { forward: row?.forward });
    await waitFor('the preview panel', () => api.previews.panelsOf(id('web')).length === 1);
    const tabOf = (): vscode.Tab | undefined => vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((t) => t.label === `${id('web')} :3000`);
    await waitFor(`an editor tab titled with the agent and port (tabs: ${vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label)).join(', ')})`, () => tabOf() !== undefined);
    const tab = tabOf();
    assert.ok(tab);
    assert.ok(tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('gitiso.preview'));
  });

  it('closes the preview when its agent stops', async () => {
    await api.gitiso.agents.stop(id('web'));
    await waitFor('the preview to close', () => api.previews.panelsOf(id('web')).length === 0);
    await waitFor('the forward row to go', () => api.forwardItems(id('web')).length === 0);
  });

  it('says clearly when an agent has no dev command', async () => {
    server.createRepo('nodev');
    await vscode.commands.executeCommand('gitiso.createAgent', { id: id('nodev'), repoUrl: server.url('nodev') });
    await assert.rejects(api.gitiso.devServers.start(id('nodev')), /has no dev command/);
  });
});
