import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { waitFor } from '../support/waitFor';
import { httpGet } from '../support/http';
import { gitisoSuite } from './gitisoSuite';

const FIXTURE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'devsite');

describe('dev servers and previews in a real VS Code', () => {
  const prefix = `t-vsp-${Date.now().toString(36)}`;
  const suite = gitisoSuite({
    prefix,
    repos: {
      preview: {
        '.gitiso.json': JSON.stringify({ dev: 'python3 server.py' }),
        'server.py': readFileSync(join(FIXTURE, 'server.py')),
        'index.html': '<h1>preview main</h1>\n',
      },
    },
  });
  const id = (name: string): string => `${prefix}-${name}`;

  it('starts the dev server, shows its forward under the agent and opens a preview tab', async () => {
    await vscode.commands.executeCommand('gitiso.createAgent', { id: id('web'), repoUrl: suite.server.url('preview') });
    const started = await vscode.commands.executeCommand<{ port: number; forward?: { url: string } } | undefined>('gitiso.startDevServer', id('web'));
    assert.ok(started?.forward, 'the command did not forward the dev server');
    assert.equal(started.port, 3000);
    await waitFor('the forward row under the agent', () => suite.api.forwardItems(id('web')).length === 1);
    const [row] = suite.api.forwardItems(id('web'));
    assert.equal(row?.label, '3000');
    assert.equal(row?.description, `→ ${started.forward.url.replace('http://', '')}`);
    assert.equal(suite.api.treeItems().find((item) => item.agent.id === id('web'))?.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
    assert.equal(await httpGet(`${started.forward.url}/index.html`), '<h1>preview main</h1>\n');

    await vscode.commands.executeCommand('gitiso.openPreview', { forward: row?.forward });
    await waitFor('the preview panel', () => suite.api.previews.panelsOf(id('web')).length === 1);
    const tabOf = (): vscode.Tab | undefined => vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((t) => t.label === `${id('web')} :3000`);
    await waitFor(`an editor tab titled with the agent and port (tabs: ${vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label)).join(', ')})`, () => tabOf() !== undefined);
    const tab = tabOf();
    assert.ok(tab);
    assert.ok(tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('gitiso.preview'));
  });

  it('keeps the forwards, and each preview on its own agent, when a setting other than the engine changes', async () => {
    // A second agent on the same container port, previewed beside the first.
    await vscode.commands.executeCommand('gitiso.createAgent', { id: id('two'), repoUrl: suite.server.url('preview') });
    await suite.engine.exec(`gitiso-${id('two')}`, ['sh', '-c', 'echo "<h1>preview two</h1>" > /workspace/index.html']);
    await vscode.commands.executeCommand('gitiso.startDevServer', id('two'));
    await suite.api.previews.open(id('two'), 3000);
    const before = snapshot();
    assert.equal(before.length, 2);
    assert.notEqual(before[0]?.hostPort, before[1]?.hostPort);

    const config = vscode.workspace.getConfiguration('gitiso');
    try {
      // One setting the service is built from (but not the engine), and one it is not.
      for (const [name, value] of [['limits.pids', 256], ['statusBar.show', false]] as const) {
        await config.update(name, value, vscode.ConfigurationTarget.Global);
        await waitFor(`${name} to apply`, () => vscode.workspace.getConfiguration('gitiso').get(name) === value);
        await new Promise((resolve) => setTimeout(resolve, 500)); // the window's listeners have run
        assert.deepEqual(snapshot(), before, `after gitiso.${name} changed`);
        for (const { url, page } of before) {
          assert.equal(await httpGet(`${url}/index.html`), page);
        }
      }
    } finally {
      await config.update('limits.pids', undefined, vscode.ConfigurationTarget.Global);
      await config.update('statusBar.show', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('shows Forward Again when a preview\'s forward is gone, and never the page another agent got at its address', async () => {
    const old = await suite.api.gitiso.local.core.ports.forward(id('web'), 3000);
    await suite.api.gitiso.local.core.ports.forward(id('two'), 3000);
    await suite.api.gitiso.local.core.ports.stop(id('web'), 3000);
    // The attacker's case: the other agent forwards again while the first one's preview is open.
    await suite.api.gitiso.local.core.ports.stop(id('two'), 3000);
    const two = await suite.api.gitiso.local.core.ports.forward(id('two'), 3000);
    assert.notEqual(two.hostPort, old.hostPort, `the other agent was given the first one's address ${old.url}`);

    await waitFor('the preview to say its forward is gone', () => suite.api.previews.panelsOf(id('web'))[0]?.state === 'forwardGone');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [panel] = suite.api.previews.panelsOf(id('web'));
    assert.equal(panel?.state, 'forwardGone', `the preview of ${id('web')} shows ${panel?.url}`);
    assert.equal(panel.url, undefined);

    // The panel's Forward Again button.
    await suite.api.previews.forwardAgain(id('web'), 3000);
    const [again] = suite.api.gitiso.forwards(id('web'));
    assert.ok(again);
    await waitFor('the preview to show its agent again', () => suite.api.previews.panelsOf(id('web'))[0]?.state === 'showing');
    const url = suite.api.previews.panelsOf(id('web'))[0]?.url;
    assert.ok(url);
    // The browser's address of the new forward: itself, or code-server's /proxy/PORT/ of it.
    assert.ok(url.startsWith(`${again.url}/`) || url.includes(`/proxy/${again.hostPort}/`), `the preview shows ${url}, not the forward ${again.url}`);
    assert.equal(await httpGet(`${url}index.html`), '<h1>preview main</h1>\n');
    await suite.api.gitiso.local.core.agents.remove(id('two'));
  });

  /** Each agent's forward of 3000, the page it serves, and its preview. */
  function snapshot(): { agentId: string; hostPort: number; url: string; page: string; preview: unknown }[] {
    return [id('web'), id('two')].flatMap((agentId) =>
      suite.api.gitiso.forwards(agentId).map((forward) => ({
        agentId,
        hostPort: forward.hostPort,
        url: forward.url,
        page: agentId === id('two') ? '<h1>preview two</h1>\n' : '<h1>preview main</h1>\n',
        preview: suite.api.previews.panelsOf(agentId),
      })),
    );
  }

  it('closes the preview when its agent stops', async () => {
    await suite.api.gitiso.local.core.agents.stop(id('web'));
    await waitFor('the preview to close', () => suite.api.previews.panelsOf(id('web')).length === 0);
    await waitFor('the forward row to go', () => suite.api.forwardItems(id('web')).length === 0);
  });

  it('says clearly when an agent has no dev command', async () => {
    suite.server.createRepo('nodev');
    await vscode.commands.executeCommand('gitiso.createAgent', { id: id('nodev'), repoUrl: suite.server.url('nodev') });
    await assert.rejects(suite.api.gitiso.local.core.devServers.start(id('nodev')), /has no dev command/);
  });
});
