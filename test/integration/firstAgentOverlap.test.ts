import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/core/docker/engine';
import { CancelledError, PoolError } from '../../src/core/errors';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { containerNameFor } from '../../src/core/names';
import { idPrefix, makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';

/**
 * A remote the attacker controls: it takes the host's connection and says
 * nothing, holding the pool's first clone for as long as the test likes, then
 * hangs up on it. The first agent's container is made meanwhile: what it
 * leaves when the mirror fails or the create is cancelled is what is tested.
 */
class SilentRemote {
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      // Read (and drop) what the host sends, so that its hanging up is seen.
      socket.resume();
    });
  }

  static async start(): Promise<SilentRemote> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new SilentRemote(server);
  }

  url(name: string): string {
    const address = this.server.address();
    assert.ok(address && typeof address === 'object');
    return `git://127.0.0.1:${address.port}/${name}.git`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  hangUp(): void {
    for (const socket of this.sockets) {
      socket.destroy();
    }
  }

  async stop(): Promise<void> {
    this.hangUp();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('the first agent of a repository, begun while the pool mirrors it', () => {
  let engine: Engine;
  let remote: SilentRemote;
  let home: string;
  let service: GitisoCore;
  const prefix = idPrefix('first-overlap');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    remote = await SilentRemote.start();
    home = makeTempDir('first-overlap');
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'T', email: 't@example.com' }, storageDir: home });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await remote?.stop();
    removeDir(home);
  });

  /** Waits until the agent's container runs while the host's git still waits on the remote: the two overlap. */
  async function containerRunningDuringMirror(agentId: string): Promise<void> {
    for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 50))) {
      assert.ok(Date.now() < deadline, `the container of ${agentId} was not started while the pool mirrored`);
      const container = await engine.inspectContainer(containerNameFor(agentId));
      if (container?.State.Running && remote.connections > 0) {
        return;
      }
    }
  }

  async function assertNothingLeft(agentId: string): Promise<void> {
    assert.equal(await engine.inspectContainer(containerNameFor(agentId)), undefined, `the container of ${agentId} was left behind`);
    assert.deepEqual(await engine.listContainers(`gitiso.agent=${agentId}`), []);
    const pool = readdirSync(join(home, 'pool'));
    assert.deepEqual(pool.filter((name) => name.startsWith('.clone-') || name.endsWith('.git')), [], 'a half mirror was left in the pool');
  }

  it('removes the container when the remote fails the mirror', async () => {
    const agentId = id('fails');
    const created = service.creator.create({ id: agentId, repoUrl: remote.url('fails') });
    created.catch(() => undefined);
    await containerRunningDuringMirror(agentId);
    remote.hangUp();
    await assert.rejects(created, PoolError);
    await assertNothingLeft(agentId);
  });

  it('removes the container and stops the mirror when the create is cancelled', async () => {
    const agentId = id('cancelled');
    const cancel = new AbortController();
    const created = service.creator.create({ id: agentId, repoUrl: remote.url('cancelled') }, { signal: cancel.signal });
    created.catch(() => undefined);
    await containerRunningDuringMirror(agentId);
    cancel.abort();
    await assert.rejects(created, CancelledError);
    await assertNothingLeft(agentId);
    for (const deadline = Date.now() + 10_000; remote.connections > 0; await new Promise((resolve) => setTimeout(resolve, 50))) {
      assert.ok(Date.now() < deadline, 'the host\'s git still talks to the remote after the cancel');
    }
  });
});
