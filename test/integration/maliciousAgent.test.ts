import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/core/docker/engine';
import { BringHomeError, TooLargeError } from '../../src/core/errors';
import { createCore, type CoreOptions, type GitisoCore } from '../../src/core/gitisoCore';
import { GitServer } from '../support/gitServer';
import { git, idPrefix, makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';

const identity = { name: 'Test Person', email: 'test@example.com' };

/**
 * An agent is untrusted: what it configures, what its repository holds and
 * what it sends as its work must not run on the host, nor change any ref in
 * the pool but its own.
 */
describe('a malicious agent\'s work on the host', () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  let options: CoreOptions;
  const prefix = idPrefix('evil');
  const victim = `${prefix}-v`;
  const trapped = `${prefix}-m`;
  const faker = `${prefix}-f`;
  /** Files the host would make if it ran any of the agent's commands; the agent can only make them in its own container. */
  const marker = join('/tmp', `gitiso-pwned-${randomBytes(6).toString('hex')}`);
  const dirs: string[] = [];
  let poolPath = '';
  let victimHead = '';
  let poolMain = '';
  let mirrorPath = '';

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('evil', { 'a.txt': 'a\n' });
    options = { engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity, storageDir: makeTempDir('evil-storage') };
    dirs.push(options.storageDir ?? '');
    core = createCore(options);
    await Promise.all([victim, trapped, faker].map((id) => core.creator.create({ id, repoUrl: server.url('evil') })));
    await inAgent(victim, 'echo victim > v.txt && git add v.txt && git commit -qm "the victim\'s work"');
    const work = await core.roundTrip.bringHome(victim);
    poolPath = work.poolPath;
    victimHead = work.head;
    mirrorPath = core.pool.pathFor(server.url('evil'));
    poolMain = git(mirrorPath, 'rev-parse', 'refs/heads/main');
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
    core?.dispose();
    dirs.forEach(removeDir);
  });

  async function inAgent(agentId: string, script: string, ...args: string[]): Promise<string> {
    const result = await core.exec.run(agentId, ['sh', '-c', script, 'test', ...args]);
    assert.equal(result.exitCode, 0, result.stderr);
    return result.stdout;
  }

  function workspace(): string {
    const dir = makeTempDir('evil-workspace');
    dirs.push(dir);
    git(dir, 'clone', '-q', server.url('evil'), '.');
    git(dir, 'config', 'user.name', 'User');
    git(dir, 'config', 'user.email', 'user@example.com');
    return dir;
  }

  function markersOnHost(): string[] {
    const name = marker.slice('/tmp/'.length);
    return [tmpdir(), '/tmp'].flatMap((dir) => readdirSync(dir).filter((entry) => entry.startsWith(name)));
  }

  /** The host's refs (work repository and mirror) other than the given agent's own: what no agent may change. */
  function othersRefs(except: string): string {
    return [poolPath, mirrorPath]
      .flatMap((repo) => git(repo, 'for-each-ref', '--format=%(refname) %(objectname)').split('\n'))
      .filter((line) => !line.startsWith(`refs/gitiso/${except}/`) && !line.startsWith('refs/heads/gitiso/'))
      .join('\n');
  }

  it('runs none of its hooks, fsmonitor, ssh command, filters, diff or merge drivers on the host', async () => {
    await inAgent(
      trapped,
      `m=$1
git config core.fsmonitor "touch $m-fsmonitor; false"
git config core.sshCommand "touch $m-ssh; ssh"
git config core.hooksPath .git/hooks
for hook in post-checkout reference-transaction pre-push post-merge post-commit pre-commit; do
  printf '#!/bin/sh\\ntouch %s-hook-%s\\n' "$m" "$hook" > .git/hooks/$hook && chmod +x .git/hooks/$hook
done
git config filter.pwn.clean "touch $m-clean; cat"
git config filter.pwn.smudge "touch $m-smudge; cat"
git config diff.pwn.command "touch $m-diff"
git config diff.pwn.textconv "touch $m-textconv; cat"
git config merge.pwn.driver "touch $m-merge"
printf '* filter=pwn diff=pwn merge=pwn\\n' > .gitattributes
echo changed >> a.txt
git add -A && git commit -qm "armed"
echo uncommitted >> a.txt`,
      marker,
    );
    // The traps are armed: in the agent, its git runs them.
    assert.match(await inAgent(trapped, 'ls /tmp'), /gitiso-pwned-.*-hook-post-commit/);
    const before = othersRefs(trapped);

    const work = await core.roundTrip.bringHome(trapped);
    const changes = await core.roundTrip.changes(work);
    assert.deepEqual(changes.map((file) => file.path).sort(), ['.gitattributes', 'a.txt']);
    assert.equal((await core.roundTrip.readFileAt({ poolPath: work.poolPath, commit: work.worktree, path: 'a.txt', maxBytes: 1000 }))?.toString(), 'a\nchanged\nuncommitted\n');
    assert.equal((await core.roundTrip.push(trapped)).kind, 'created');
    await core.workspaceGit.fetchIntoWorkspace(trapped, workspace());
    assert.equal((await core.workspaceGit.merge(trapped, workspace())).kind, 'fast-forward');
    assert.deepEqual((await core.workspaceGit.apply(trapped, workspace())).conflicts, []);
    await core.workspaceGit.checkOut(trapped, workspace());

    assert.deepEqual(markersOnHost(), [], 'the host ran a command the agent configured');
    assert.equal(othersRefs(trapped), before);
  });

  it('lets a bundle set only the agent\'s own refs, whatever refs it claims', async () => {
    // A bundle made on the host, as a fake git in the agent would send it: it claims main, another agent's refs and a tag.
    const forge = makeTempDir('evil-forge');
    dirs.push(forge);
    git(forge, 'clone', '-q', server.url('evil'), '.');
    writeFileSync(join(forge, 'a.txt'), 'forged\n');
    git(forge, 'commit', '-qam', 'forged');
    const forged = git(forge, 'rev-parse', 'HEAD');
    for (const ref of [`refs/gitiso/${victim}/head`, `refs/gitiso/${victim}/worktree`, 'refs/tags/evil', `refs/heads/gitiso/${faker}`, 'refs/heads/main']) {
      git(forge, 'update-ref', ref, forged);
    }
    const bundle = join(forge, 'evil.bundle');
    git(forge, 'bundle', 'create', '-q', bundle, 'refs/heads/main', `refs/gitiso/${victim}/head`, `refs/gitiso/${victim}/worktree`, 'refs/tags/evil', `refs/heads/gitiso/${faker}`);
    await installFakeGit(readFileSync(bundle));
    const before = othersRefs(faker);

    const work = await core.roundTrip.bringHome(faker);
    // Its own session branch is its to say; nothing else moved.
    assert.equal(work.head, forged);
    assert.equal(othersRefs(faker), before);
    assert.equal(git(mirrorPath, 'rev-parse', 'refs/heads/main'), poolMain);
    assert.equal(git(poolPath, 'rev-parse', `refs/gitiso/${victim}/head`), victimHead);
    assert.equal(git(poolPath, 'for-each-ref', 'refs/heads/', 'refs/tags/'), '');
    assert.equal(git(mirrorPath, 'tag', '--list', 'evil'), '');
  });

  it('refuses garbage, and a bundle whose objects are broken, with a clear error and no refs', async () => {
    await core.agents.remove(faker).catch(() => undefined);
    await core.creator.create({ id: faker, repoUrl: server.url('evil') });
    await installFakeGit(randomBytes(5000));
    await assert.rejects(core.roundTrip.bringHome(faker), (error: unknown) => error instanceof BringHomeError && /not a git bundle/.test(error.message));
    const id = 'f'.repeat(40);
    await installFakeGit(Buffer.concat([Buffer.from(`# v2 git bundle\n${id} refs/heads/gitiso/${faker}\n\nPACK`), randomBytes(3000)]));
    await assert.rejects(core.roundTrip.bringHome(faker), (error: unknown) => error instanceof BringHomeError && /sent a bundle the host refused/.test(error.message));
    assert.equal(git(poolPath, 'for-each-ref', `refs/gitiso/${faker}/`), '');
    assert.deepEqual(leftTempDirs(), []);
  });

  it('stops a bundle past the limit with a clear error, and leaves no refs and no temporary files', async () => {
    const small = createCore({ ...options, maxBundleBytes: 64 * 1024 });
    try {
      await inAgent(victim, 'head -c 400000 /dev/urandom > big.bin');
      await assert.rejects(small.roundTrip.bringHome(victim), (error: unknown) => error instanceof TooLargeError && /larger than 65536 bytes/.test(error.message));
      assert.equal(git(poolPath, 'rev-parse', `refs/gitiso/${victim}/head`), victimHead);
      assert.deepEqual(leftTempDirs(), []);
      // The agent is left as it was: no temporary ref, no index copy.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await inAgent(victim, 'git for-each-ref refs/gitiso-export; ls .git | grep gitiso-export || true'), '');
    } finally {
      small.dispose();
    }
  });

  /** A `git` first in the agent's PATH that sends `bundle` as its bundle and passes everything else to the real git. */
  async function installFakeGit(bundle: Buffer): Promise<void> {
    const { containerId } = await core.agents.get(faker);
    await engine.putFile(containerId, '/usr/local/bin/git', '#!/bin/sh\nif [ "$1" = bundle ]; then cat /tmp/evil.bundle; exit 0; fi\nexec /usr/bin/git "$@"\n', 0o755);
    await engine.putFile(containerId, '/tmp/evil.bundle', bundle, 0o644);
    assert.equal((await inAgent(faker, 'command -v git')).trim(), '/usr/local/bin/git');
  }

  function leftTempDirs(): string[] {
    return readdirSync(tmpdir()).filter((name) => name.startsWith(`gitiso-bundle-${process.pid}-`));
  }
});
