import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import { containerNameFor } from '../../src/core/names';
import { GitServer } from '../support/gitServer';
import { git, idPrefix, makeTempDir, removeAgents, removeDir, TEST_NETWORK, testEngine, testImage, TEST_LIMITS } from '../support/testEnv';
import { recordingLogger } from '../support/recordingLogger';

describe('snapshots and the object pool', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  const logLines: string[] = [];
  const prefix = idPrefix('snap');
  const id = (name: string): string => `${prefix}-${name}`;
  let commits: { main: string; feature: string };
  const count = (pattern: RegExp): number => logLines.filter((line) => pattern.test(line)).length;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    commits = server.createRepo('app', { 'package.json': '{"name":"app"}\n' });
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'S', email: 's@example.com' }, log: recordingLogger(logLines) });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await service?.snapshots.prune(0).catch(() => undefined);
    await server?.stop();
  });

  const writableLayerBytes = (agentId: string): Promise<number> => engine.writableLayerBytes(containerNameFor(agentId));

  it('creates 10 agents concurrently with one pool fetch and one snapshot build', async () => {
    const requests = Array.from({ length: 10 }, (_, n) => ({ id: id(`burst-${n}`), repoUrl: server.url('app') }));
    const outcomes = await service.creator.createMany(requests, { concurrency: 10 });
    const failures = outcomes.filter((o) => 'error' in o);
    assert.deepEqual(failures, []);
    assert.equal(count(/^pool: mirrored /), 1, logLines.join('\n'));
    assert.equal(count(/^pool: fetched /), 0, logLines.join('\n'));
    assert.equal(count(/^snapshot .* built in/), 1, logLines.join('\n'));
    const snapshots = (await service.snapshots.list()).filter((s) => s.repoUrl === server.url('app'));
    assert.equal(snapshots.length, 1);
    assert.equal(snapshots[0]?.baseCommit, commits.main);
  });

  it('shares the clone as a layer: each agent on its own branch, a small writable layer, isolated commits', async () => {
    for (let n = 0; n < 3; n++) {
      const branch = (await service.exec.git(id(`burst-${n}`), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim();
      assert.equal(branch, `gitiso/${id(`burst-${n}`)}`);
      const bytes = await writableLayerBytes(id(`burst-${n}`));
      assert.ok(bytes > 0 && bytes < 5 * 1024 * 1024, `writable layer of ${id(`burst-${n}`)} is ${bytes} bytes`);
    }
    await service.exec.git(id('burst-0'), ['commit', '--allow-empty', '-q', '-m', 'only in burst-0']);
    const sha = (await service.exec.git(id('burst-0'), ['rev-parse', 'HEAD'])).stdout.trim();
    assert.notEqual((await service.exec.git(id('burst-1'), ['cat-file', '-e', sha])).exitCode, 0);
  });

  it('gives each agent started from the snapshot an index with its cache tree and untracked cache, which its first git status uses as they are (no tree walk, no copy of the index)', async () => {
    // The burst's first create makes its own clone (no snapshot yet), and which create that is depends on timing.
    const [snapshot] = (await service.snapshots.list()).filter((s) => s.repoUrl === server.url('app'));
    assert.ok(snapshot);
    const fromSnapshot = Array.from({ length: 10 }, (_, n) => id(`burst-${n}`)).filter(
      (agentId) => execFileSync('docker', ['inspect', '--format', '{{.Config.Image}}', containerNameFor(agentId)], { encoding: 'utf8' }).trim() === snapshot.image,
    );
    assert.ok(fromSnapshot.length >= 9, `started from the snapshot: ${fromSnapshot.join(', ')}`);
    const agent = fromSnapshot[fromSnapshot.length - 1] as string;
    const container = containerNameFor(agent);
    const index = await engine.readFile(container, '/workspace/.git/index');
    assert.ok(index);
    // The cache tree extension: "TREE", its size, then the root: an empty path (a NUL), its entry count (-1 when invalid), its subtrees.
    const at = index.lastIndexOf('TREE');
    assert.ok(at > 0 && index[at + 8] === 0, 'the index has no cache tree');
    assert.match(index.subarray(at + 9, at + 40).toString('latin1'), /^\d+ \d+\n/, 'the index has no valid cache tree');
    assert.ok(index.includes('UNTR'), 'the index has no untracked cache');
    assert.equal((await service.exec.git(agent, ['config', 'core.untrackedCache'])).stdout.trim(), 'true');
    const mtime = async (): Promise<string> => (await engine.exec(container, ['stat', '-c', '%y', '/workspace/.git/index'])).stdout;
    const before = await mtime();
    assert.equal((await service.exec.git(agent, ['status', '--porcelain'])).stdout, '');
    assert.equal(await mtime(), before, 'the first git status wrote the index');
    // Its output is git's as ever.
    await service.exec.run(agent, ['sh', '-c', 'echo changed >> package.json && echo new > new.txt']);
    assert.equal((await service.exec.git(agent, ['status', '--porcelain'])).stdout, ' M package.json\n?? new.txt\n');
    // A file made in the same second as the last status (the untracked cache must not miss it), in a new folder too.
    await service.exec.run(agent, ['sh', '-c', 'echo again > new2.txt && mkdir -p sub && echo deep > sub/deep.txt']);
    assert.equal((await service.exec.git(agent, ['status', '--porcelain', '-uall'])).stdout, ' M package.json\n?? new.txt\n?? new2.txt\n?? sub/deep.txt\n');
    assert.equal((await service.exec.git(agent, ['status', '--porcelain'])).stdout, ' M package.json\n?? new.txt\n?? new2.txt\n?? sub/\n');
  });

  it('keeps the snapshot free of credentials and of the pool', async () => {
    const [snapshot] = (await service.snapshots.list()).filter((s) => s.repoUrl === server.url('app'));
    assert.ok(snapshot);
    const history = execFileSync('docker', ['history', '--no-trunc', '--format', '{{.CreatedBy}}', snapshot.image], { encoding: 'utf8' });
    const inspect = execFileSync('docker', ['image', 'inspect', snapshot.image], { encoding: 'utf8' });
    const config = (await service.exec.git(id('burst-0'), ['config', '--list', '--show-origin'])).stdout;
    for (const text of [history, inspect, config]) {
      assert.doesNotMatch(text, /:\/\/[^/\s"]*@/, 'a URL with user info');
      assert.doesNotMatch(text, /gitiso-pool|\.cache\/gitiso|bundle/i);
    }
    assert.match(config, new RegExp(`remote\\.origin\\.url=${server.url('app').replace(/[.]/g, '\\.')}`));
    const agentInspect = execFileSync('docker', ['inspect', containerNameFor(id('burst-0'))], { encoding: 'utf8' });
    assert.doesNotMatch(agentInspect, /:\/\/[^/\s"]*@|TOKEN|PASSWORD/i);
  });

  it('brings a commit pushed after the snapshot to a new agent (delta fetch) and builds the next snapshot in the background', async () => {
    const work = makeTempDir('push');
    try {
      git(work, 'clone', '-q', server.barePath('app'), '.');
      writeFileSync(join(work, 'new.txt'), 'new\n');
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', 'pushed after the snapshot');
      git(work, 'push', '-q', 'origin', 'main');
      const pushed = git(work, 'rev-parse', 'HEAD');
      const agent = await service.creator.create({ id: id('delta'), repoUrl: server.url('app') });
      assert.equal(agent.baseCommit, pushed);
      assert.equal((await service.exec.git(agent.id, ['rev-parse', 'HEAD'])).stdout.trim(), pushed);
      assert.equal((await service.exec.git(agent.id, ['status', '--porcelain'])).stdout, '');
      assert.equal((await service.exec.git(agent.id, ['show', 'HEAD:new.txt'])).stdout, 'new\n');
      assert.equal(count(/^pool: fetched /), 1);
      // An agent made before the push gets the new commit by a sync, without credentials or network of its own.
      const synced = await service.agents.sync(id('burst-1'));
      assert.deepEqual(synced, { branch: 'main', from: commits.main, to: pushed });
      assert.equal((await service.exec.git(id('burst-1'), ['rev-parse', 'origin/main'])).stdout.trim(), pushed);
      assert.equal((await service.exec.git(id('burst-1'), ['log', '--format=%s', 'HEAD..origin/main'])).stdout.trim(), 'pushed after the snapshot');
      assert.deepEqual(await service.agents.sync(id('burst-1')), { branch: 'main', from: pushed, to: pushed });
      // The next agents get a snapshot of the new commit, built in the background.
      const deadline = Date.now() + 60_000;
      while (!(await service.snapshots.list()).some((s) => s.baseCommit === pushed)) {
        assert.ok(Date.now() < deadline, 'no snapshot of the new commit was built');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      removeDir(work);
    }
  });

  it('reports a failure in a burst by name, leaves nothing of it, and keeps the others', async () => {
    const outcomes = await service.creator.createMany([
      { id: id('ok-1'), repoUrl: server.url('app') },
      { id: id('bad'), repoUrl: server.url('app'), baseBranch: 'no-such-branch' },
      { id: id('ok-2'), repoUrl: server.url('app') },
    ]);
    const failed = outcomes.filter((o) => 'error' in o);
    assert.deepEqual(failed.map((o) => o.id), [id('bad')]);
    assert.match((failed[0] as { error: Error }).error.message, /branch 'no-such-branch' does not exist/);
    assert.equal(await engine.inspectContainer(containerNameFor(id('bad'))), undefined);
    assert.equal((await service.agents.get(id('ok-1'))).state, 'ready');
    assert.equal((await service.agents.get(id('ok-2'))).state, 'ready');
  });

  it('prunes snapshots no agent uses, and leaves the pool consistent', async () => {
    const mine = async (): Promise<number> => (await service.snapshots.list()).filter((s) => s.repoUrl === server.url('app')).length;
    assert.ok((await mine()) >= 1);
    assert.deepEqual(await service.snapshots.prune(0).then((removed) => removed.filter((s) => s.repoUrl === server.url('app'))), []);
    await removeAgents(engine, prefix);
    const removed = (await service.snapshots.prune(0)).filter((s) => s.repoUrl === server.url('app'));
    assert.ok(removed.length >= 1);
    assert.equal(await mine(), 0);
    execFileSync('git', ['fsck', '--no-progress'], { cwd: service.pool.pathFor(server.url('app')), stdio: 'pipe' });
  });
});
