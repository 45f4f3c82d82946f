import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { Engine } from '../../src/core/docker/engine';
import { httpGet } from '../support/http';
import { secondEngine, startSecondDockerd, stopSecondDockerd } from '../support/secondEngine';
import { removeAgents } from '../support/testEnv';
import { waitFor } from '../support/waitFor';
import { gitisoSuite } from './gitisoSuite';

const FIXTURE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'devsite');

/**
 * Two engines in one window: the local one and the test set-up's second
 * dockerd, reached only over SSH (`ssh://gitiso-engine2`, with the ssh config
 * scripts/ensure-second-engine.sh wrote), named in the user's gitiso.engines.
 */
describe('agents on several engines in one VS Code window', () => {
  const prefix = `t-vse-${Date.now().toString(36)}`;
  const suite = gitisoSuite({
    prefix,
    repos: {
      site: {
        '.gitiso.json': JSON.stringify({ dev: 'python3 server.py' }),
        'server.py': readFileSync(join(FIXTURE, 'server.py')),
        'index.html': '<h1>from the second engine</h1>\n',
      },
    },
  });
  const id = (name: string): string => `${prefix}-${name}`;
  const second = secondEngine();
  const direct = new Engine(second.unixHost);
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('gitiso');
  const children = async (engine: string): Promise<string[]> => {
    const row = suite.api.engineItems().find((item) => item.engineName === engine);
    assert.ok(row, `a row for ${engine}`);
    // By what the rows show: the extension's classes are its bundle's, not the ones this test would import.
    return (await suite.api.childrenOf(row)).map((node) => (node.contextValue === 'unreachable' ? `unreachable:${String(node.label)}` : String(node.label)));
  };

  before(async () => {
    await config().update('sshConfigFile', second.sshConfig, vscode.ConfigurationTarget.Global);
    await config().update('engines', [{ name: 'second', host: 'ssh://gitiso-engine2' }], vscode.ConfigurationTarget.Global);
    const state = (): string => suite.api.gitiso.engines.map((engine) => `${engine.name} ${engine.core.engine.address} ${JSON.stringify(suite.api.gitiso.model.statusOf(engine.name))}`).join('; ');
    await waitFor("the second engine to answer in the window", async () => {
      await suite.api.gitiso.model.refresh();
      return suite.api.gitiso.engines.length === 2 && suite.api.gitiso.model.statusOf('second').kind === 'connected';
    }, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; engines now: ${state()}`);
    });
  });

  after(async () => {
    await removeAgents(direct, prefix).catch(() => undefined);
    await config().update('engines', undefined, vscode.ConfigurationTarget.Global);
    await config().update('sshConfigFile', undefined, vscode.ConfigurationTarget.Global);
  });

  it('shows an agent of each engine under its engine, in one tree, and counts both in the status bar', async () => {
    await vscode.commands.executeCommand('gitiso.createAgent', { id: id('here'), repoUrl: suite.server.url('site'), engine: 'local' });
    assert.deepEqual(suite.api.engineItems().map((item) => item.engineName), ['local', 'second']);
    // The second engine's row's Create Agent Here (the request passed as a script would).
    const secondRow = suite.api.engineItems()[1];
    assert.match(String(secondRow?.contextValue), /;engine;/);
    await vscode.commands.executeCommand('gitiso.createAgentHere', secondRow, { id: id('there'), repoUrl: suite.server.url('site') });
    assert.equal(suite.api.gitiso.model.engineOf(id('there')), 'second');
    assert.ok((await direct.listContainers('gitiso.agent')).some((c) => c.Labels['gitiso.agent'] === id('there')), 'the agent runs on the second engine');
    assert.ok((await children('local')).includes(id('here')));
    assert.deepEqual((await children('second')).filter((name) => name.startsWith(prefix)), [id('there')]);
    await waitFor('the second engine’s row to count its agent', () => /1 agent/.test(String(suite.api.engineItems()[1]?.description)));
    await waitFor('the status bar to count agents of both engines', () => suite.api.gitiso.model.agents.filter((agent) => agent.id.startsWith(prefix)).length === 2);
    // Git on the SSH engine's agent, from a command of the window.
    assert.equal((await suite.api.gitiso.on(id('there')).exec.git(id('there'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('there')}`);
  });

  it('opens a preview of the agent on the SSH engine', async () => {
    const started = await vscode.commands.executeCommand<{ forward?: { url: string; through: string } } | undefined>('gitiso.startDevServer', id('there'));
    assert.ok(started?.forward, 'forwarded');
    assert.equal(started.forward.through, 'ssh connection');
    assert.equal(await httpGet(`${started.forward.url}/index.html`), '<h1>from the second engine</h1>\n');
    await suite.api.previews.open(id('there'), 3000);
    await waitFor('the preview panel of the SSH engine’s agent', () => suite.api.previews.panelsOf(id('there')).length === 1);
  });

  it('places an agent on "any" engine where it fits: with the local engine nearly full, on the second', async () => {
    const local = suite.api.gitiso.engineNamed('local');
    assert.ok(local);
    const { totalBytes, reservedBytes } = await local.core.admission.memory();
    // The local engine nearly full: an agent whose limit takes all but 64 MB of what is left (made past admission, as "Create Anyway" does).
    await local.core.creator.create({ id: id('full'), repoUrl: suite.server.url('site'), limits: { memoryBytes: totalBytes - reservedBytes - 64 * 1024 ** 2 } }, { force: true });
    try {
      await vscode.commands.executeCommand('gitiso.createAgent', { id: id('placed'), repoUrl: suite.server.url('site'), engine: 'any' });
      assert.equal(suite.api.gitiso.model.engineOf(id('placed')), 'second');
    } finally {
      await local.core.agents.remove(id('full'));
    }
  });

  it('shows only the second engine’s agents unreachable when its dockerd stops, and brings them back when it answers', async () => {
    await stopSecondDockerd();
    try {
      await waitFor('the second engine marked as not answering', async () => {
        await suite.api.gitiso.model.refresh();
        return suite.api.gitiso.model.statusOf('second').kind === 'unavailable';
      }, 60_000);
      assert.equal(suite.api.gitiso.model.statusOf('local').kind, 'connected');
      assert.match(String(suite.api.engineItems()[1]?.description), /not answering/);
      assert.ok((await children('second')).includes(`unreachable:${id('there')}`));
      assert.ok((await children('local')).includes(id('here')), 'the local agent is untouched');
      assert.equal(suite.api.gitiso.model.engineOf(id('there')), undefined, 'nothing can be done with it meanwhile');
    } finally {
      await startSecondDockerd();
    }
    await waitFor('the second engine’s agent back', async () => {
      await suite.api.gitiso.model.refresh();
      return suite.api.gitiso.model.engineOf(id('there')) === 'second';
    }, 60_000);
    assert.ok((await children('second')).includes(id('there')));
  });
});
