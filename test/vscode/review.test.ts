import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { GitisoApi } from '../../src/extension';
import { Engine } from '../../src/core/docker/engine';
import type { MergeOutcome, PushOutcome } from '../../src/core/roundTrip/roundTripTypes';
import type { GitShortcutResult } from '../../src/vscode/commands/gitShortcuts';
import type { ReviewOpened } from '../../src/vscode/commands/reviewChanges';
import type { ChangedFileTreeItem } from '../../src/vscode/views/changedFileTreeItem';
import { GitServer } from '../support/gitServer';
import { git, makeTempDir, removeAgents, removeDir, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

/** Runs a shell script in the agent's /workspace as its user would (a commit, an edit). */
async function inAgent(api: GitisoApi, agentId: string, script: string): Promise<void> {
  const result = await api.gitiso.local.core.exec.run(agentId, ['sh', '-c', `cd /workspace && ${script}`]);
  assert.equal(result.exitCode, 0, `${script}: ${result.stderr}`);
}

const tabs = (): vscode.Tab[] => vscode.window.tabGroups.all.flatMap((group) => group.tabs);
// The multi-file diff editor's tab is the title plus " (N files)".

describe('reviewing an agent’s work in VS Code', () => {
  let api: GitisoApi;
  let engine: Engine;
  let server: GitServer;
  const scratch: string[] = [];
  const prefix = `t-rev-${Date.now().toString(36)}`;
  const id = (name: string): string => `${prefix}-${name}`;
  const workspaceFolder = (): string => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';

  before(async () => {
    const extension = vscode.extensions.getExtension<GitisoApi>('gitiso.gitiso');
    assert.ok(extension, 'gitiso is not installed in this VS Code');
    api = await extension.activate();
    engine = new Engine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('review', { 'src/app.js': 'console.log(1);\n', 'old.txt': 'to be removed\n' });
    for (const name of ['one', 'many']) {
      const agent = await vscode.commands.executeCommand<{ state: string } | undefined>('gitiso.createAgent', { id: id(name), repoUrl: server.url('review') });
      assert.equal(agent?.state, 'ready');
    }
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await removeAgents(engine, prefix);
    await server?.stop();
    scratch.forEach(removeDir);
    try {
      git(workspaceFolder(), 'update-ref', '-d', `refs/remotes/gitiso/${id('one')}`);
    } catch {
      // The fetch test did not get that far.
    }
  });

  it('says a fresh agent has no changes, in Git Diff and in Review Changes', async () => {
    const diff = await vscode.commands.executeCommand<GitShortcutResult>('gitiso.gitDiff', id('one'));
    assert.equal(diff.exitCode, 0);
    assert.equal(diff.stdout, '');
    assert.equal(diff.note, 'no changes against main');
    const opened = await vscode.commands.executeCommand<ReviewOpened | undefined>('gitiso.reviewChanges', id('one'));
    assert.equal(opened, undefined);
    const items = await api.changedFileItems(id('one'));
    assert.deepEqual(
      items.map((item) => item.label),
      ['no changes'],
    );
  });

  it('shows committed and uncommitted work against the base in Git Diff', async () => {
    await inAgent(
      api,
      id('one'),
      [
        'printf "console.log(2);\\nconsole.log(3);\\n" > src/app.js',
        'git rm -q old.txt',
        'printf "new\\n" > added.txt',
        'git add -A',
        'git commit -q -m "agent work"',
        'printf "# review, edited\\n" > README.md',
        'printf "scratch\\n" > untracked.txt',
      ].join(' && '),
    );
    const diff = await vscode.commands.executeCommand<GitShortcutResult>('gitiso.gitDiff', id('one'));
    assert.equal(diff.exitCode, 0);
    // Committed (app.js, old.txt, added.txt) and uncommitted (README.md) alike.
    for (const file of ['src/app.js', 'old.txt', 'added.txt', 'README.md']) {
      assert.match(diff.stdout, new RegExp(`^diff --git a/${file} b/${file}$`, 'm'), diff.stdout);
    }
    assert.match(diff.stdout, /^\+console\.log\(3\);$/m);
    assert.match(diff.note ?? '', /untracked.*untracked\.txt/);
  });

  it('opens every changed file in the multi-file diff editor, both sides from the pool', async () => {
    const title = `${id('one')}: 5 files changed against main`;
    const opened = await vscode.commands.executeCommand<ReviewOpened | undefined>('gitiso.reviewChanges', id('one'));
    assert.ok(opened, 'Review Changes opened nothing');
    assert.equal(opened.title, title);
    assert.deepEqual([...opened.files].sort(), ['README.md', 'added.txt', 'old.txt', 'src/app.js', 'untracked.txt']);
    await waitFor(`a tab titled "${title}" (tabs: ${tabs().map((tab) => tab.label).join(', ')})`, () => tabs().some((tab) => tab.label.startsWith(title)));
  });

  it('lists the changed files with their counts under the agent’s Changes node, each opening its diff', async () => {
    const items = (await api.changedFileItems(id('one'))).filter((item): item is ChangedFileTreeItem => 'file' in item); // the extension's classes are bundled apart from the tests'
    const rows = Object.fromEntries(items.map((item) => [item.file.path, { label: item.label, description: item.description, letter: item.resourceUri?.query }]));
    assert.deepEqual(rows, {
      'README.md': { label: 'README.md', description: '+1 −1', letter: 'M' },
      'added.txt': { label: 'added.txt', description: '+1 −0', letter: 'A' },
      'old.txt': { label: 'old.txt', description: '+0 −1', letter: 'D' },
      'src/app.js': { label: 'app.js', description: 'src · +2 −1', letter: 'M' },
      'untracked.txt': { label: 'untracked.txt', description: '+1 −0', letter: 'A' },
    });
    const app = items.find((item) => item.file.path === 'src/app.js');
    const [left, right] = (app?.command?.arguments ?? []) as vscode.Uri[];
    assert.ok(left && right, 'the row opens no diff');
    assert.equal((await vscode.workspace.openTextDocument(left)).getText(), 'console.log(1);\n');
    assert.equal((await vscode.workspace.openTextDocument(right)).getText(), 'console.log(2);\nconsole.log(3);\n');
    const removed = items.find((item) => item.file.path === 'old.txt');
    const [removedLeft, removedRight] = (removed?.command?.arguments ?? []) as vscode.Uri[];
    assert.ok(removedLeft && removedRight, 'the deleted file’s row opens no diff');
    assert.equal((await vscode.workspace.openTextDocument(removedLeft)).getText(), 'to be removed\n');
    assert.equal((await vscode.workspace.openTextDocument(removedRight)).getText(), '');
    // A URI gitiso did not make (no full commit id) reads as nothing, and names no file on disk.
    const forged = vscode.Uri.from({ scheme: 'gitiso-object', authority: id('one'), path: '/README.md', query: 'HEAD' });
    assert.equal((await vscode.workspace.openTextDocument(forged)).getText(), '');
  });

  it('keeps an open Changes node current when the agent’s working tree changes', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.gitiso');
    // One reveal: an expand event VS Code drops (the row redrawn meanwhile) must not leave the open node unwatched.
    const expanded = await api.expandChanges(id('one'));
    await waitFor(`the Changes node of ${id('one')} to be watched (the view visible and the window focused)`, () => api.watchedChanges().includes(id('one'))).catch((error: unknown) => {
      throw new Error(`${String(error)}; the expand: ${expanded}, watched: [${api.watchedChanges().join(', ')}], window focused: ${vscode.window.state.focused}`);
    });
    await inAgent(api, id('one'), 'printf "later\\n" > later.txt');
    const paths = async (): Promise<string[]> => (await api.changedFileItems(id('one'))).filter((item): item is ChangedFileTreeItem => 'file' in item).map((item) => item.file.path);
    const started = Date.now();
    // The rows are the cache's: only the poll (every 5 s) can have brought the new file.
    await waitFor('the new file under Changes', async () => (await paths()).includes('later.txt'), 15_000);
    console.log(`      a new file showed under Changes ${Date.now() - started} ms after it was written`);
  });

  it('pushes the agent’s branch from the host, not from the agent', async () => {
    const outcome = await vscode.commands.executeCommand<PushOutcome>('gitiso.pushBranch', id('one'));
    const head = (await api.gitiso.local.core.exec.git(id('one'), ['rev-parse', 'HEAD'])).stdout.trim();
    assert.equal(outcome.kind, 'created', outcome.sentence);
    assert.equal(server.branchCommit('review', `gitiso/${id('one')}`), head);
    // The agent ran no push: it has no upstream and no remote-tracking branch of its own.
    const tracking = await api.gitiso.local.core.exec.git(id('one'), ['rev-parse', '--verify', '--quiet', `refs/remotes/origin/gitiso/${id('one')}`]);
    assert.notEqual(tracking.exitCode, 0, 'the agent has a remote-tracking branch: it pushed');
  });

  it('fetches the agent’s branch into the workspace’s repository as refs/remotes/gitiso/<id>', async () => {
    const ref = await vscode.commands.executeCommand<string>('gitiso.fetchIntoWorkspace', id('one'));
    assert.equal(ref, `refs/remotes/gitiso/${id('one')}`);
    const head = (await api.gitiso.local.core.exec.git(id('one'), ['rev-parse', 'HEAD'])).stdout.trim();
    assert.equal(git(workspaceFolder(), 'rev-parse', ref), head);
  });

  it('merges the agent’s branch into the current branch of a checkout', async () => {
    const checkout = makeTempDir('review-checkout');
    scratch.push(checkout);
    git(checkout, 'clone', '-q', server.url('review'), '.');
    const before = git(checkout, 'rev-parse', 'HEAD');
    const outcome = await vscode.commands.executeCommand<MergeOutcome>('gitiso.mergeIntoCurrentBranch', id('one'), undefined, { dir: checkout });
    assert.equal(outcome.kind, 'fast-forward');
    const head = (await api.gitiso.local.core.exec.git(id('one'), ['rev-parse', 'HEAD'])).stdout.trim();
    assert.notEqual(head, before);
    assert.equal(git(checkout, 'rev-parse', 'HEAD'), head);
    assert.equal(git(checkout, 'branch', '--show-current'), 'main');
  });

  it('reports how long Review Changes takes to list 50 changed files', async () => {
    await inAgent(api, id('many'), 'mkdir -p many && for i in $(seq 1 50); do echo "file $i" > many/f$i.txt; done && git add -A && git commit -q -m fifty');
    const title = `${id('many')}: 50 files changed against main`;
    const started = performance.now();
    const opened = await vscode.commands.executeCommand<ReviewOpened | undefined>('gitiso.reviewChanges', id('many'));
    await waitFor(`a tab titled "${title}"`, () => tabs().some((tab) => tab.label.startsWith(title)));
    const ms = Math.round(performance.now() - started);
    assert.equal(opened?.files.length, 50);
    console.log(`      Review Changes listed 50 changed files in ${ms} ms (bring home and list ${opened?.loadMs} ms, vscode.changes ${opened?.openMs} ms)`);
  });

  it('shows what an agent made too large or binary without reading it into the editor', async () => {
    // The agent chooses sizes and contents: a 6 MB file and a binary one.
    await inAgent(api, id('many'), 'head -c 6000000 /dev/zero | tr "\\0" a > big.txt && printf "\\000\\001\\002" > blob.bin');
    const opened = await vscode.commands.executeCommand<ReviewOpened | undefined>('gitiso.reviewChanges', id('many'));
    assert.equal(opened?.files.length, 52);
    const items = (await api.changedFileItems(id('many'))).filter((item): item is ChangedFileTreeItem => 'file' in item);
    assert.equal(items.find((item) => item.file.path === 'blob.bin')?.description, 'binary');
    assert.equal(items.find((item) => item.file.path === 'big.txt')?.description, '+1 −0');
    // The sides Review Changes opened: the files at the agent's work in the pool.
    const work = await api.gitiso.local.core.roundTrip.bringHome(id('many'));
    const atWork = (path: string): vscode.Uri => vscode.Uri.from({ scheme: 'gitiso-object', authority: id('many'), path: `/${path}`, query: work.worktree });
    assert.equal((await vscode.workspace.openTextDocument(atWork('big.txt'))).getText(), '(not shown: larger than 5 MB)');
    assert.equal((await vscode.workspace.openTextDocument(atWork('blob.bin'))).getText(), '(binary file, 3 B)');
    assert.equal((await vscode.workspace.openTextDocument(atWork('many/f1.txt'))).getText(), 'file 1\n');
    // A file no review read ahead (unchanged) is read alone from the agent's work.
    assert.equal((await vscode.workspace.openTextDocument(atWork('README.md'))).getText(), '# review\n');
  });

  it('watches a Changes node the view shows open even when its expand event was lost', async () => {
    // VS Code drops the expand event of a node whose row was redrawn (a stats sample) between the click and the event;
    // it then asks for the node's files, as it does for every open node, and that is what counts.
    await vscode.commands.executeCommand('workbench.view.extension.gitiso');
    await waitFor('the window focused', () => vscode.window.state.focused);
    assert.ok(!api.watchedChanges().includes(id('many')), 'watched before anything showed it open');
    const row = api.treeItems().find((item) => item.agent.id === id('many'));
    assert.ok(row, 'no row for the agent');
    const node = (await api.childrenOf(row)).find((child) => child.contextValue === ';changes;');
    assert.ok(node, 'the row has no Changes node');
    await api.childrenOf(node);
    assert.ok(api.watchedChanges().includes(id('many')), `not watched: [${api.watchedChanges().join(', ')}]`);
  });
});
