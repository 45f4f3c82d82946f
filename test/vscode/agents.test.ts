import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { createCore } from '../../src/core/gitisoCore';
import { Engine } from '../../src/core/docker/engine';
import { GitServer } from '../support/gitServer';
import { removeAgents, TEST_NETWORK, testImage, TEST_LIMITS } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

/** A ready agent's row: its state, then its CPU and memory once the sampler has read it. */
function isReadyRow(description: unknown): boolean {
  return typeof description === 'string' && /^ready( · \d+% · [\d.]+[BKMG])?$/.test(description);
}

describe('gitiso in a real VS Code', () => {
  let api: GitisoApi;
  let engine: Engine;
  let server: GitServer;
  const prefix = `t-vsc-${Date.now().toString(36)}`;
  const id = (name: string): string => `${prefix}-${name}`;
  const rowOf = (agentId: string) => api.treeItems().find((item) => item.agent.id === agentId);

  before(async () => {
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension, 'gitiso is not installed in this VS Code');
    api = await extension.activate();
    engine = new Engine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('ui');
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  it('activates and reports the engine connected through its context keys', async () => {
    assert.match(api.version, /^\d+\.\d+\.\d+$/);
    console.log(`      gitiso's activate() took ${api.activatedInMs} ms`);
    await waitFor('engine state connected', () => api.contextKeys()['gitiso.engineState'] === 'connected');
    assert.equal(api.contextKeys()['gitiso.hasRepository'], true);
    const commands = await vscode.commands.getCommands(true);
    for (const command of ['gitiso.createAgent', 'gitiso.createAgents', 'gitiso.removeAgent', 'gitiso.openTerminal', 'gitiso.runGitCommand', 'gitiso.pushBranch']) {
      assert.ok(commands.includes(command), `${command} is not registered`);
    }
  });

  it('registers exactly the commands package.json contributes', async () => {
    const manifest = vscode.extensions.getExtension('gitiso.gitiso')?.packageJSON as { contributes: { commands: { command: string }[] } };
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('gitiso.') && !c.startsWith('gitiso.agents.')).sort(); // view commands are the workbench's
    assert.deepEqual(registered, contributed);
  });

  it('creates an agent through the command and shows it in the tree and status bar', async () => {
    const agent = await vscode.commands.executeCommand<{ id: string; state: string } | undefined>('gitiso.createAgent', { id: id('one'), repoUrl: server.url('ui') });
    assert.ok(agent, 'the command did not return an agent');
    assert.equal(agent.state, 'ready');
    await waitFor('row of the new agent', () => isReadyRow(rowOf(id('one'))?.description));
    const row = rowOf(id('one'));
    assert.equal(row?.contextValue, ';agent;ready;running;');
    assert.equal(row?.id, `agent:${id('one')}`);
    const count = api.gitiso.model.agents.length;
    // Figures (CPU, memory) follow once the sampler has read the agents.
    assert.match(api.statusBar().text, new RegExp(`^\\$\\(server-process\\) ${count} ${count === 1 ? 'agent' : 'agents'}( · .*)?$`));
    assert.match(api.statusBar().tooltip, new RegExp(`\\| ${id('one')} \\| ready \\|`));
    assert.equal(api.contextKeys()['gitiso.agentCount'], count);
  });

  it('runs a git command in the agent and returns its output', async () => {
    const result = await vscode.commands.executeCommand<{ exitCode: number; stdout: string }>('gitiso.runGitCommand', id('one'), 'rev-parse --abbrev-ref HEAD');
    assert.deepEqual({ code: result.exitCode, out: result.stdout.trim() }, { code: 0, out: `gitiso/${id('one')}` });
  });

  it('opens a terminal inside the agent at /workspace', async () => {
    const terminal = await vscode.commands.executeCommand<vscode.Terminal>('gitiso.openTerminal', id('one'));
    assert.ok(terminal, 'no terminal was opened');
    assert.equal(terminal.name, `gitiso: ${id('one')}`);
    // What the shell writes lands in the container: proof that keystrokes reach a shell there.
    terminal.sendText('git branch --show-current > /tmp/terminal-probe; pwd >> /tmp/terminal-probe');
    const agent = api.gitiso.model.agents.find((a) => a.id === id('one'));
    assert.ok(agent);
    let probe = '';
    await waitFor('the terminal to run a command in the container', async () => {
      probe = (await engine.exec(agent.containerId, ['cat', '/tmp/terminal-probe'])).stdout;
      return probe.includes('/workspace');
    });
    assert.equal(probe, `gitiso/${id('one')}\n/workspace\n`);
    terminal.dispose();
  });

  it('shows agents created or removed elsewhere (the CLI, another window) without a refresh', async () => {
    const elsewhere = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'x', email: 'x@example.com' } });
    await elsewhere.creator.create({ id: id('cli'), repoUrl: server.url('ui') });
    const created = Date.now();
    await waitFor('the agent made elsewhere to appear', () => isReadyRow(rowOf(id('cli'))?.description), 5_000);
    const appearedAfterMs = Date.now() - created;
    await elsewhere.agents.remove(id('cli'));
    const removed = Date.now();
    await waitFor('the agent removed elsewhere to disappear', () => rowOf(id('cli')) === undefined, 5_000);
    const disappearedAfterMs = Date.now() - removed;
    // Nothing polls: only the engine's events can have brought these. The latency is reported, not asserted.
    console.log(`      appeared ${appearedAfterMs} ms after its create returned, disappeared ${disappearedAfterMs} ms after its removal`);
  });

  it('copies the branch name', async () => {
    const branch = await vscode.commands.executeCommand<string>('gitiso.copyBranchName', id('one'));
    assert.equal(branch, `gitiso/${id('one')}`);
    assert.equal(await vscode.env.clipboard.readText(), branch);
  });

  it('creates several agents concurrently, each shown at once', async () => {
    const seen = new Set<string>();
    const watch = api.gitiso.onDidChangeAgents(() => {
      for (const agent of api.gitiso.model.agents) {
        if (agent.state === 'creating' && agent.id.startsWith(id('many'))) {
          seen.add(agent.id);
        }
      }
    });
    const agents = await vscode.commands.executeCommand<{ id: string }[]>('gitiso.createAgents', { count: 3, prefix: id('many'), repoUrl: server.url('ui') });
    watch.dispose();
    assert.deepEqual(agents.map((a) => a.id).sort(), [1, 2, 3].map((n) => `${id('many')}-${n}`));
    assert.deepEqual([...seen].sort(), [1, 2, 3].map((n) => `${id('many')}-${n}`), 'not every agent was shown in the creating state');
    for (const agent of agents) {
      assert.ok(isReadyRow(rowOf(agent.id)?.description), String(rowOf(agent.id)?.description));
    }
  });

  it('removes a multi-selection of agents', async () => {
    const ids = [1, 2, 3].map((n) => `${id('many')}-${n}`);
    await vscode.commands.executeCommand('gitiso.removeAgent', ids, undefined, { confirm: false });
    await waitFor('removed rows to go', () => ids.every((agentId) => rowOf(agentId) === undefined));
    for (const agentId of ids) {
      assert.equal(await engine.inspectContainer(`gitiso-${agentId}`), undefined);
    }
  });

  it('shows the Docker-unavailable state when the engine cannot be reached, and recovers', async () => {
    const config = vscode.workspace.getConfiguration('gitiso');
    await config.update('dockerHost', 'unix:///tmp/gitiso-nothing-here.sock', vscode.ConfigurationTarget.Global);
    try {
      await waitFor('engine state unavailable', () => api.contextKeys()['gitiso.engineState'] === 'unavailable');
      assert.equal(api.statusBar().text, '$(server-process) Docker unavailable');
      assert.equal(api.statusBar().warning, true);
      assert.deepEqual(api.treeItems(), []);
    } finally {
      await config.update('dockerHost', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor('engine state connected again', () => api.contextKeys()['gitiso.engineState'] === 'connected');
    assert.equal(api.statusBar().warning, false);
    await waitFor('agents back in the tree', () => rowOf(id('one')) !== undefined);
  });

  it('removes an agent through the command', async () => {
    await vscode.commands.executeCommand('gitiso.removeAgent', id('one'), undefined, { confirm: false });
    await waitFor('the row to go', () => rowOf(id('one')) === undefined);
    assert.equal(await engine.inspectContainer(`gitiso-${id('one')}`), undefined);
  });
});
