import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { Engine } from '../../src/core/docker/engine';
import { GitServer } from '../support/gitServer';
import { removeAgents, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** An agent's files through gitiso-agent: URIs, as the editor and other extensions use them. */
describe('an agent\'s files in the editor (gitiso-agent:)', () => {
  let api: GitisoApi;
  let engine: Engine;
  let server: GitServer;
  const prefix = `t-vsf-${Date.now().toString(36)}`;
  const agentId = `${prefix}-a`;
  const uri = (path: string, id = agentId): vscode.Uri => vscode.Uri.from({ scheme: 'gitiso-agent', authority: id, path });

  /** The test's own look into the agent, beside gitiso's channels. */
  async function inAgent(...argv: string[]): Promise<string> {
    const agent = await api.gitiso.local.core.agents.get(agentId);
    const result = await engine.exec(agent.containerId, argv, { workdir: '/workspace' });
    assert.equal(result.exitCode, 0, `${argv.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  async function rejectsWith(promise: Thenable<unknown>, code: string, message?: RegExp): Promise<void> {
    await assert.rejects(Promise.resolve(promise), (error: unknown) => {
      assert.ok(error instanceof vscode.FileSystemError, `not a FileSystemError: ${String(error)}`);
      assert.equal(error.code, code, error.message);
      if (message) {
        assert.match(error.message, message);
      }
      return true;
    });
  }

  before(async () => {
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension, 'gitiso is not installed in this VS Code');
    api = await extension.activate();
    engine = new Engine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('files');
    const agent = await vscode.commands.executeCommand<{ id: string; state: string } | undefined>('gitiso.createAgent', { id: agentId, repoUrl: server.url('files') });
    assert.equal(agent?.state, 'ready');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  it('writes a file the agent\'s git sees, reads it back, lists, renames and deletes it', async () => {
    let started = performance.now();
    await vscode.workspace.fs.writeFile(uri('/from-editor.txt'), Buffer.from('written by VS Code\n'));
    const writeMs = performance.now() - started;
    assert.match(await inAgent('git', 'status', '--porcelain'), /^\?\? from-editor\.txt$/m);
    started = performance.now();
    assert.equal(text(await vscode.workspace.fs.readFile(uri('/from-editor.txt'))), 'written by VS Code\n');
    const readMs = performance.now() - started;
    console.log(`      through vscode.workspace.fs: write ${writeMs.toFixed(0)} ms, read ${readMs.toFixed(0)} ms`);
    const stat = await vscode.workspace.fs.stat(uri('/from-editor.txt'));
    assert.equal(stat.type, vscode.FileType.File);
    assert.equal(stat.size, 19);

    await vscode.workspace.fs.createDirectory(uri('/made/deeper'));
    const entries = new Map(await vscode.workspace.fs.readDirectory(uri('/')));
    assert.equal(entries.get('from-editor.txt'), vscode.FileType.File);
    assert.equal(entries.get('made'), vscode.FileType.Directory);

    await vscode.workspace.fs.rename(uri('/from-editor.txt'), uri('/made/renamed.txt'));
    assert.equal(await inAgent('cat', 'made/renamed.txt'), 'written by VS Code\n');
    await rejectsWith(vscode.workspace.fs.stat(uri('/from-editor.txt')), 'FileNotFound');
    await rejectsWith(vscode.workspace.fs.writeFile(uri('/made'), Buffer.from('x')), 'FileIsADirectory');

    await vscode.workspace.fs.delete(uri('/made'), { recursive: true });
    assert.equal(await inAgent('git', 'status', '--porcelain'), '');
  });

  it('opens a file in an editor; an edit saved lands in the agent', async () => {
    await inAgent('sh', '-c', 'printf "line one\\n" > edited.txt');
    const document = await vscode.workspace.openTextDocument(uri('/edited.txt'));
    assert.equal(document.getText(), 'line one\n');
    await vscode.window.showTextDocument(document);
    // An edit of the document, not of its editor: an editor that something else replaced meanwhile edits nothing (it failed so once).
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(1, 0), 'line two from the editor\n');
    assert.ok(await vscode.workspace.applyEdit(edit), 'the edit was not applied');
    assert.ok(document.isDirty, 'the edited document is not dirty');
    assert.ok(await document.save(), `the save failed (dirty: ${document.isDirty}, closed: ${document.isClosed})`);
    assert.equal(await inAgent('cat', 'edited.txt'), 'line one\nline two from the editor\n');
    assert.match(await inAgent('git', 'status', '--porcelain'), /^\?\? edited\.txt$/m);
  });

  it('Open File in Agent… opens a named file, and the pick offers the agent\'s files', async () => {
    const named = await vscode.commands.executeCommand<vscode.TextEditor | undefined>('gitiso.openFileInAgent', agentId, 'edited.txt');
    assert.equal(named?.document.uri.toString(), uri('/edited.txt').toString());

    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // The pick: Enter is ignored until the list is there, then opens the first file (git ls-files sorts: .gitiso… or README…).
    const picked = vscode.commands.executeCommand<vscode.TextEditor | undefined>('gitiso.openFileInAgent', { agent: await api.gitiso.local.core.agents.get(agentId) });
    let done = false;
    void picked.then(() => (done = true));
    await waitFor('the pick to open a file', async () => {
      if (!done) {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      }
      return done;
    });
    const editor = await picked;
    assert.ok(editor, 'the pick opened nothing');
    assert.equal(editor.document.uri.scheme, 'gitiso-agent');
    assert.equal(editor.document.uri.authority, agentId);
    const firstFile = (await inAgent('git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard')).split('\0')[0];
    assert.equal(editor.document.uri.path, `/${firstFile}`);
  });

  it('refuses a path that leaves /workspace', async () => {
    await rejectsWith(vscode.workspace.fs.readFile(uri('/../etc/passwd')), 'NoPermissions', /leaves the agent's \/workspace/);
    await rejectsWith(vscode.workspace.fs.writeFile(uri('/a/../../../tmp/x'), Buffer.from('x')), 'NoPermissions');
    await rejectsWith(vscode.workspace.fs.stat(uri('/x', '..')), 'FileNotFound', /agent id/);
  });

  it('says plainly that a removed agent no longer exists', async () => {
    await vscode.commands.executeCommand('gitiso.removeAgent', [agentId], undefined, { confirm: false });
    await rejectsWith(vscode.workspace.fs.readFile(uri('/edited.txt')), 'Unavailable', /agent '.*' no longer exists/);
    await rejectsWith(vscode.workspace.fs.writeFile(uri('/edited.txt'), Buffer.from('x')), 'Unavailable', /no longer exists/);
  });
});
