import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/core/docker/engine';
import { WorkspaceGitError } from '../../src/core/errors';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { AgentWork } from '../../src/core/roundTrip/roundTripTypes';
import { GitServer } from '../support/gitServer';
import { git, idPrefix, makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';

const identity = { name: 'Test Person', email: 'test@example.com' };

describe('an agent\'s work comes home through the host', () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  let commits: { main: string; feature: string };
  let work: AgentWork;
  const prefix = idPrefix('rt');
  const id = `${prefix}-a`;
  const dirs: string[] = [];

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    commits = server.createRepo('rt', { 'a.txt': 'one\ntwo\nthree\n', 'old name.txt': 'to be renamed\nwith two lines\n' });
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity, storageDir: makeTempDir('rt-storage') });
    await core.creator.create({ id, repoUrl: server.url('rt') });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
    core?.dispose();
    dirs.forEach(removeDir);
  });

  /** Runs a shell line in the agent's /workspace; fails the test when it fails. */
  async function inAgent(agentId: string, script: string): Promise<string> {
    const result = await core.exec.run(agentId, ['sh', '-c', script]);
    assert.equal(result.exitCode, 0, result.stderr);
    return result.stdout;
  }

  function pool(...args: string[]): string {
    return git(work.poolPath, ...args);
  }

  /** A clone of the server's repository on the host: the user's workspace. */
  function workspace(): string {
    const dir = makeTempDir('rt-workspace');
    dirs.push(dir);
    git(dir, 'clone', '-q', server.url('rt'), '.');
    git(dir, 'config', 'user.name', 'User');
    git(dir, 'config', 'user.email', 'user@example.com');
    return dir;
  }

  it('brings a commit, an uncommitted edit and an untracked file to the host (not into the mirror agents can see), leaving the agent\'s status and index as they were', async () => {
    await inAgent(id, 'printf "one\\nTWO\\nthree\\nfour\\n" > a.txt && git mv "old name.txt" "new name.txt" && git commit -qam "agent work"');
    await inAgent(id, 'printf "# rt\\nedited\\n" > README.md && printf "new\\nfile\\n" > "untracked file.txt" && printf "\\0\\1\\2" > blob.bin');
    const state = 'git status --porcelain=v1 -uall && sha256sum .git/index';
    const before = await inAgent(id, state);
    work = await core.roundTrip.bringHome(id);
    assert.equal(await inAgent(id, state), before, 'the agent\'s status or index changed');

    assert.equal(work.head, (await inAgent(id, 'git rev-parse HEAD')).trim());
    assert.notEqual(work.worktree, work.head);
    assert.equal(work.base, commits.main);
    assert.equal(pool('rev-parse', `refs/gitiso/${id}/head`), work.head);
    assert.equal(pool('rev-parse', `refs/gitiso/${id}/worktree`), work.worktree);
    assert.equal(pool('rev-parse', `refs/gitiso/${id}/base`), work.base);
    assert.equal(pool('rev-parse', `${work.worktree}^`), work.head, 'the worktree commit sits on the branch');
    // The pool's mirror (which the pool strategy mounts into agents) holds none of it: another agent could read it there.
    const mirror = core.pool.pathFor(server.url('rt'));
    assert.equal(git(mirror, 'for-each-ref', 'refs/gitiso/'), '');
    assert.throws(() => git(mirror, 'cat-file', '-e', work.worktree), 'the mirror has the agent\'s uncommitted work');
    // No temporary ref is left in the agent.
    assert.equal((await inAgent(id, 'git for-each-ref refs/gitiso-export')).trim(), '');

    const changes = await core.roundTrip.changes(work);
    const byPath = Object.fromEntries(changes.map((file) => [file.path, file]));
    assert.deepEqual(byPath['a.txt'], { path: 'a.txt', status: 'modified', added: 2, removed: 1 });
    assert.deepEqual(byPath['new name.txt'], { path: 'new name.txt', oldPath: 'old name.txt', status: 'renamed', added: 0, removed: 0 });
    assert.deepEqual(byPath['README.md'], { path: 'README.md', status: 'modified', added: 1, removed: 0 });
    assert.deepEqual(byPath['untracked file.txt'], { path: 'untracked file.txt', status: 'added', added: 2, removed: 0 });
    assert.deepEqual(byPath['blob.bin'], { path: 'blob.bin', status: 'added' });
    assert.equal(changes.length, 5);

    const content = await core.roundTrip.readFileAt({ poolPath: work.poolPath, commit: work.worktree, path: 'blob.bin', maxBytes: 100 });
    assert.deepEqual(content, Buffer.from([0, 1, 2]));
    assert.equal(await core.roundTrip.readFileAt({ poolPath: work.poolPath, commit: work.base, path: 'blob.bin', maxBytes: 100 }), undefined);
    await assert.rejects(core.roundTrip.readFileAt({ poolPath: work.poolPath, commit: work.worktree, path: 'a.txt', maxBytes: 3 }), /larger than 3 bytes/);
  });

  it('brings a one-commit change home quickly, and a signature that follows the branch and the working tree', async () => {
    const first = await core.roundTrip.signature(id);
    assert.equal(await core.roundTrip.signature(id), first, 'the signature changed with nothing changed');
    await inAgent(id, 'printf "more\\n" >> a.txt');
    const edited = await core.roundTrip.signature(id);
    assert.notEqual(edited, first, 'an edit did not change the signature');
    await inAgent(id, 'git commit -qam "one more"');
    assert.notEqual(await core.roundTrip.signature(id), edited, 'a commit did not change the signature');

    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      await inAgent(id, `printf "round ${round}\\n" >> a.txt && git commit -qm "round ${round}" a.txt`);
      const started = performance.now();
      work = await core.roundTrip.bringHome(id);
      times.push(performance.now() - started);
      assert.equal(work.head, (await inAgent(id, 'git rev-parse HEAD')).trim());
    }
    const median = [...times].sort((a, b) => a - b)[1] ?? 0;
    console.log(`one-commit bring-home: median ${median.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')} ms), ${work.bytes} bytes`);
    assert.ok(work.bytes < 20_000, `a one-commit bundle of ${work.bytes} bytes is not thin`);
  });

  it('fetches the agent\'s branch into a workspace and merges it (fast forward)', async () => {
    const dir = workspace();
    const fetched = await core.workspaceGit.fetchIntoWorkspace(id, dir);
    assert.equal(fetched.ref, `refs/remotes/gitiso/${id}`);
    assert.equal(git(dir, 'rev-parse', fetched.ref), fetched.work.head);
    const merged = await core.workspaceGit.merge(id, dir);
    assert.deepEqual(merged, { kind: 'fast-forward', conflicts: [] });
    assert.equal(git(dir, 'rev-parse', 'HEAD'), fetched.work.head);
    assert.deepEqual(await core.workspaceGit.merge(id, dir), { kind: 'up-to-date', conflicts: [] });
  });

  it('reports a conflicting merge and leaves it in progress; refuses over uncommitted changes', async () => {
    const dir = workspace();
    writeFileSync(join(dir, 'a.txt'), 'one\nmine\nthree\n');
    await assert.rejects(core.workspaceGit.merge(id, dir), (error: unknown) => error instanceof WorkspaceGitError && /uncommitted changes/.test(error.message));
    git(dir, 'commit', '-qam', 'the user\'s change');
    const merged = await core.workspaceGit.merge(id, dir);
    assert.deepEqual(merged, { kind: 'conflicts', conflicts: ['a.txt'] });
    assert.ok(existsSync(join(dir, '.git', 'MERGE_HEAD')), 'the merge is not left in progress');
  });

  it('applies the agent\'s committed and uncommitted changes to a working tree', async () => {
    const dir = workspace();
    const applied = await core.workspaceGit.apply(id, dir);
    assert.deepEqual(applied.conflicts, []);
    assert.equal(applied.files, 5);
    assert.equal(git(dir, 'rev-parse', 'HEAD'), commits.main, 'apply committed something');
    assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), '# rt\nedited\n');
    assert.equal(readFileSync(join(dir, 'untracked file.txt'), 'utf8'), 'new\nfile\n');
    assert.deepEqual(readFileSync(join(dir, 'blob.bin')), Buffer.from([0, 1, 2]));
    assert.ok(existsSync(join(dir, 'new name.txt')) && !existsSync(join(dir, 'old name.txt')), 'the rename was not applied');
    assert.match(readFileSync(join(dir, 'a.txt'), 'utf8'), /^one\nTWO\nthree\nfour\nmore\nround 0\n/);
  });

  it('checks the agent\'s branch out locally, refusing to move a local branch with commits of its own', async () => {
    const dir = workspace();
    const checkedOut = await core.workspaceGit.checkOut(id, dir);
    assert.deepEqual(checkedOut, { branch: `gitiso/${id}`, commit: work.head });
    assert.equal(git(dir, 'symbolic-ref', '--short', 'HEAD'), `gitiso/${id}`);
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'the user\'s own');
    await assert.rejects(core.workspaceGit.checkOut(id, dir), /has commits the agent's lacks/);
  });

  it('pushes from the host: a new branch, then up to date; a non-fast-forward is rejected in one sentence', async () => {
    const pushed = await core.roundTrip.push(id);
    assert.equal(pushed.kind, 'created', pushed.sentence);
    assert.equal(server.branchCommit('rt', `gitiso/${id}`), work.head);
    const again = await core.roundTrip.push(id);
    assert.equal(again.kind, 'up-to-date', again.sentence);

    // The remote's feature branch has a commit the agent's lacks.
    const rejected = await core.roundTrip.push(id, { to: 'feature' });
    assert.equal(rejected.kind, 'rejected');
    assert.match(rejected.sentence, /the remote's feature has commits the agent's lacks; sync the agent and merge, or push with --force-with-lease/);
    assert.equal(server.branchCommit('rt', 'feature'), commits.feature);
    const forced = await core.roundTrip.push(id, { to: 'feature', forceWithLease: true });
    assert.equal(forced.kind, 'forced', forced.sentence);
    assert.equal(server.branchCommit('rt', 'feature'), work.head);
  });

  it('forgets the agent\'s refs in the pool when the agent is removed', async () => {
    assert.notEqual(pool('for-each-ref', `refs/gitiso/${id}/`), '');
    await core.agents.remove(id);
    assert.equal(pool('for-each-ref', `refs/gitiso/${id}/`), '');
  });
});
