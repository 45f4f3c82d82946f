import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '../../src/core/docker/engine';
import { SetupNotAllowedError } from '../../src/core/errors';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { containerNameFor } from '../../src/core/names';
import type { SetupProposal } from '../../src/core/setup/setupProposal';
import { GitServer } from '../support/gitServer';
import { git, idPrefix, makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { recordingLogger } from '../support/recordingLogger';

// The bundled CLI, as users run it (built by `npm run build`).
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

const SECRET = 'PRIVATE-KEY-OF-THE-USER';
const GIT_MARKER = 'marker-from-the-users-git-config';
const SIBLING = 'FILE-NEXT-TO-THE-CHECKOUT';
const INSTALL = 'touch /workspace/installed-by-the-repository';

/** What a repository may commit to reach the user's files: links out, .git, .. — and one legitimate git-ignored .env. */
const EVIL_SETUP = { install: INSTALL, copy: ['notes.txt', 'linkdir/id_rsa', '.git/config', '../sibling.txt', '.env'] };

describe('a malicious repository', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  let root: string;
  let checkout: string;
  const logLines: string[] = [];
  const prefix = idPrefix('evil');
  const id = (name: string): string => `${prefix}-${name}`;
  const repoUrl = (): string => server.url('evil');
  const run = async (agentId: string, script: string): Promise<string> => (await service.exec.run(agentId, ['sh', '-c', script])).stdout;
  const snapshotsOfRepo = async () => (await service.snapshots.list()).filter((s) => s.repoUrl === repoUrl());

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    root = makeTempDir('evil');
    // The user's own files, outside the checkout.
    const home = join(root, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'id_rsa'), `${SECRET}\n`);
    writeFileSync(join(root, 'sibling.txt'), `${SIBLING}\n`);
    // The repository commits links that point at them (absolute: they resolve on the user's machine).
    server.createRepo('evil', { '.gitiso.json': JSON.stringify(EVIL_SETUP), '.gitignore': '.env\n' });
    const work = makeTempDir('evil-work');
    try {
      git(work, 'clone', '-q', server.barePath('evil'), '.');
      symlinkSync(join(home, 'id_rsa'), join(work, 'notes.txt'));
      symlinkSync(home, join(work, 'linkdir'));
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', 'notes');
      git(work, 'push', '-q', 'origin', 'main');
    } finally {
      removeDir(work);
    }
    // The user's checkout of it, with a git-ignored .env of their own and a private value in .git/config.
    checkout = join(root, 'checkout');
    git(root, 'clone', '-q', server.barePath('evil'), checkout);
    git(checkout, 'config', 'gitiso.marker', GIT_MARKER);
    writeFileSync(join(checkout, '.env'), 'API_TOKEN=for-the-agent\n');
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'E', email: 'e@example.com' }, log: recordingLogger(logLines) });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    if (service && server) {
      for (const snapshot of await snapshotsOfRepo()) {
        await engine.removeImage(snapshot.image).catch(() => undefined);
      }
    }
    service?.dispose();
    await server?.stop();
    if (root) {
      removeDir(root);
    }
  });

  it('refuses a create whose install and copies were not allowed, saying what they are, and leaves nothing', async () => {
    await assert.rejects(service.creator.create({ id: id('refused'), repoUrl: repoUrl(), copyFrom: checkout }), (error: unknown) => {
      assert.ok(error instanceof SetupNotAllowedError, String(error));
      assert.match(error.message, /--trust-setup/);
      assert.ok(error.message.includes(`run '${INSTALL}'`), error.message);
      for (const path of EVIL_SETUP.copy) {
        assert.ok(error.message.includes(JSON.stringify(path)), `${path} is not named: ${error.message}`);
      }
      return true;
    });
    assert.equal(await engine.inspectContainer(containerNameFor(id('refused'))), undefined, 'a container was left');
    assert.deepEqual(await snapshotsOfRepo(), [], 'a snapshot was built');
  });

  it('once allowed: copies the legitimate .env, runs the install, and copies nothing a link, .git or .. leads to', async () => {
    const asked: SetupProposal[] = [];
    const agent = await service.creator.create({ id: id('allowed'), repoUrl: repoUrl(), copyFrom: checkout }, { consent: async (proposal) => (asked.push(proposal), true) });
    assert.equal(agent.state, 'ready');
    assert.equal(asked.length, 1);
    assert.deepEqual(asked[0]?.copy, EVIL_SETUP.copy);
    assert.equal(asked[0]?.install, INSTALL);

    assert.equal(await run(agent.id, 'cat .env'), 'API_TOKEN=for-the-agent\n');
    assert.equal(await run(agent.id, 'test -f installed-by-the-repository && echo yes'), 'yes\n');
    // The agent's notes.txt is the repository's own link (to nothing in the container), never the user's file.
    assert.equal(await run(agent.id, 'test -L notes.txt && echo link'), 'link\n');
    assert.equal(await run(agent.id, `grep -rs -e ${SECRET} -e ${GIT_MARKER} -e ${SIBLING} /workspace /sibling.txt; true`), '');
    const warnings = logLines.filter((line) => line.startsWith('setup: not copied'));
    for (const path of ['notes.txt', 'linkdir/id_rsa', '.git/config', '../sibling.txt']) {
      assert.ok(warnings.some((line) => line.includes(`'${path}'`)), `no warning for ${path}: ${warnings.join(' | ')}`);
    }
    assert.ok(!warnings.some((line) => line.includes("'.env'")), '.env was skipped');
  });

  it('from the CLI in the checkout: refused without --trust-setup, naming the flag; made with it', () => {
    const gitiso = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, ...args], { cwd: checkout, encoding: 'utf8', env: { ...process.env, GITISO_IMAGE: testImage(), GITISO_NETWORK: TEST_NETWORK }, timeout: 120_000 });
    const refused = gitiso('create', id('cli'), '--repo', repoUrl(), '--memory', '256m', '--cpus', '1');
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /--trust-setup/);
    assert.match(refused.stderr, /"notes\.txt"/);
    const allowed = gitiso('create', id('cli'), '--repo', repoUrl(), '--memory', '256m', '--cpus', '1', '--trust-setup', '--verbose');
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stderr, /not copied: 'notes\.txt' leads outside/);
    const read = gitiso('git', id('cli'), '--', 'show', 'HEAD:.gitignore');
    assert.equal(read.stdout, '.env\n');
  });

  it('the CLI agent has the .env but not the user\'s key', async () => {
    assert.equal(await run(id('cli'), 'cat .env'), 'API_TOKEN=for-the-agent\n');
    assert.equal(await run(id('cli'), `grep -rs ${SECRET} /workspace; true`), '');
  });
});
