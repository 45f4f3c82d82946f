import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { DevServers } from '../../src/core/dev/devServers';
import type { Engine } from '../../src/core/docker/engine';
import { AgentPorts } from '../../src/core/ports/agentPorts';
import { trustSetup } from '../../src/core/setup/setupProposal';
import { GitServer } from '../support/gitServer';
import { git, idPrefix, makeTempDir, removeAgents, removeDir, TEST_NETWORK, testEngine, testImage, TEST_LIMITS } from '../support/testEnv';
import { httpGet } from '../support/http';

const FIXTURE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'devsite');

/** A dependency as a tarball in the repository: the install unpacks it (no registry needed) and notes when it ran. */
function dependencyTarball(): Buffer {
  const dir = makeTempDir('dep');
  try {
    mkdirSync(join(dir, 'leftpad'));
    writeFileSync(join(dir, 'leftpad', 'index.txt'), 'leftpad 1.0\n');
    execFileSync('tar', ['-czf', join(dir, 'dep.tgz'), '-C', dir, 'leftpad']);
    return readFileSync(join(dir, 'dep.tgz'));
  } finally {
    removeDir(dir);
  }
}

const SETUP = {
  install: 'mkdir -p deps && tar -xzf vendor/dep.tgz -C deps && date +%s%N > deps/installed-at',
  dev: 'python3 server.py',
  copy: ['.env'],
};

describe('repository setup and dev servers', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  let ports: AgentPorts;
  let servers: DevServers;
  let hostFolder: string;
  const prefix = idPrefix('dev');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('devsite', {
      '.gitiso.json': JSON.stringify(SETUP),
      'server.py': readFileSync(join(FIXTURE, 'server.py')),
      'index.html': '<h1>devsite main</h1>\n',
      'vendor/dep.tgz': dependencyTarball(),
      '.gitignore': '.env\n',
    });
    server.createRepo('broken', { '.gitiso.json': JSON.stringify({ install: 'echo cannot-install >&2; exit 3' }) });
    // The repositories' install and .env copy are allowed here (maliciousRepository.test.ts refuses them).
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'D', email: 'd@example.com' }, setupConsent: trustSetup });
    ports = new AgentPorts({ exec: service.exec, agents: service.agents, engine });
    ports.start();
    servers = new DevServers({ exec: service.exec, ports });
    // The host workspace the git-ignored .env is copied from.
    hostFolder = makeTempDir('workspace');
    writeFileSync(join(hostFolder, '.env'), 'SECRET_TOKEN=host-only\n');
  });

  after(async () => {
    ports?.dispose();
    await removeAgents(engine, prefix);
    await service?.snapshots.prune(0).catch(() => undefined);
    service?.dispose();
    await server?.stop();
    removeDir(hostFolder);
  });

  it('installs once, in the snapshot, for every agent; copies .env per agent and never into the snapshot', async () => {
    const outcomes = await service.creator.createMany(
      ['a', 'b'].map((name) => ({ id: id(name), repoUrl: server.url('devsite'), copyFrom: hostFolder })),
      { concurrency: 2 },
    );
    for (const outcome of outcomes) {
      assert.ok('agent' in outcome, `create failed: ${'error' in outcome ? outcome.error.message : ''}`);
      assert.equal(outcome.agent.state, 'ready');
      assert.equal(outcome.agent.setupError, undefined);
    }
    const read = async (name: string, path: string): Promise<string> => (await service.exec.run(id(name), ['cat', path])).stdout;
    assert.equal(await read('a', 'deps/leftpad/index.txt'), 'leftpad 1.0\n');
    const installedA = await read('a', 'deps/installed-at');
    assert.ok(installedA.trim().length > 0);
    assert.equal(await read('b', 'deps/installed-at'), installedA, 'the install ran more than once');
    assert.equal(await read('a', '.env'), 'SECRET_TOKEN=host-only\n');
    assert.equal(await read('b', '.env'), 'SECRET_TOKEN=host-only\n');

    const snapshots = (await service.snapshots.list()).filter((s) => s.repoUrl === server.url('devsite'));
    assert.equal(snapshots.length, 1, 'one snapshot serves both agents');
    const [snapshot] = snapshots;
    assert.ok(snapshot && snapshot.setupKey.length > 0, 'the snapshot is known by its setup');
    // Look inside the snapshot image itself: the install is there, the copied file is not.
    const probe = await engine.createContainer({ Image: snapshot.image, Cmd: ['true'] });
    try {
      assert.ok(await engine.readFile(probe, '/workspace/deps/installed-at'));
      assert.equal(await engine.readFile(probe, '/workspace/.env'), undefined, '.env was baked into the snapshot');
    } finally {
      await engine.removeContainer(probe);
    }
  });

  it('reuses the snapshot\'s install when the base moves, and builds the next snapshot with the same setup', async () => {
    const work = makeTempDir('push');
    try {
      git(work, 'clone', '-q', server.barePath('devsite'), '.');
      writeFileSync(join(work, 'about.html'), '<h1>about</h1>\n');
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', 'a page, same lockfiles');
      git(work, 'push', '-q', 'origin', 'main');
      const pushed = git(work, 'rev-parse', 'HEAD');
      const [first] = (await service.snapshots.list()).filter((s) => s.repoUrl === server.url('devsite'));
      assert.ok(first);
      const agent = await service.creator.create({ id: id('c'), repoUrl: server.url('devsite') });
      assert.equal(agent.baseCommit, pushed);
      const installed = async (name: string): Promise<string> => (await service.exec.run(id(name), ['cat', 'deps/installed-at'])).stdout;
      assert.equal(await installed('c'), await installed('a'), 'the install ran again instead of coming from the snapshot');
      const deadline = Date.now() + 60_000;
      while (!(await service.snapshots.list()).some((s) => s.baseCommit === pushed && s.setupKey === first.setupKey)) {
        assert.ok(Date.now() < deadline, 'no snapshot of the new commit with the same setup was built');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await service.agents.remove(id('c'));
    } finally {
      removeDir(work);
    }
  });

  it('starts each dev server on port 3000, forwarded to two host ports, each serving its own files', async () => {
    const [a, b] = await Promise.all([servers.start(id('a'), { forward: true }), servers.start(id('b'), { forward: true })]);
    assert.equal(a.command, 'python3 server.py');
    assert.equal(a.port, 3000);
    assert.ok(a.forward && b.forward);
    assert.notEqual(a.forward.hostPort, b.forward.hostPort);
    assert.match(a.forward.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await servers.status(id('a')), { command: 'python3 server.py', port: 3000, startedAt: a.startedAt });

    await service.exec.run(id('a'), ['sh', '-c', 'echo "<h1>changed in a</h1>" > index.html']);
    const [pageA, pageB] = await Promise.all([httpGet(`${a.forward.url}/index.html`), httpGet(`${b.forward.url}/index.html`)]);
    assert.equal(pageA, '<h1>changed in a</h1>\n');
    assert.equal(pageB, '<h1>devsite main</h1>\n');
    assert.equal((await servers.start(id('a'))).started, false, 'a second start starts a second server');
  });

  it('relays WebSockets (hot reload) through the forward', async () => {
    const [forward] = ports.forwards(id('a'));
    assert.ok(forward);
    const socket = new WebSocket(`${forward.url.replace('http', 'ws')}/ws`);
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.once('open', () => socket.send('reload please'));
      socket.once('message', (data: Buffer) => resolve(data.toString()));
      socket.once('error', reject);
    });
    socket.terminate();
    assert.equal(echoed, 'reload please');
  });

  it('restarts the dev server and forwards it again; stop ends the server and its forward', async () => {
    const before = await servers.status(id('b'));
    const restarted = await servers.restart(id('b'), { forward: true });
    assert.ok(restarted.started && restarted.forward);
    assert.notEqual(restarted.startedAt, before?.startedAt);
    assert.equal(await httpGet(`${restarted.forward.url}/index.html`), '<h1>devsite main</h1>\n');
    await servers.stop(id('b'));
    assert.equal(await servers.status(id('b')), undefined);
    assert.equal(ports.forwards(id('b')).length, 0);
    assert.ok(!(await ports.discover(id('b'))).some((p) => p.port === 3000), 'the server still listens after stop');
    assert.match(await servers.logs(id('b')), /serving on 3000/);
    assert.equal(ports.forwards(id('a')).length, 1, "another agent's forward was touched");
  });

  it('closes the forward when the agent stops', async () => {
    const [forward] = ports.forwards(id('a'));
    assert.ok(forward);
    await service.agents.stop(id('a'));
    const deadline = Date.now() + 10_000;
    while (ports.forwards(id('a')).length > 0) {
      assert.ok(Date.now() < deadline, 'the forward outlived its agent');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await assert.rejects(httpGet(`${forward.url}/`), /ECONNREFUSED/);
  });

  it('leaves an agent whose install failed ready, marked with the error; no dev command is a clear error', async () => {
    const agent = await service.creator.create({ id: id('broken'), repoUrl: server.url('broken'), strategy: 'pool' });
    assert.equal(agent.state, 'ready');
    assert.match(agent.setupError ?? '', /exited with 3: cannot-install/);
    assert.match(agent.reason ?? '', /^setup failed/);
    await assert.rejects(servers.start(id('broken')), /has no dev command: set "dev" in \.gitiso\.json/);
  });
});
