import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import { containerNameFor } from '../../src/core/names';
import { AgentPorts } from '../../src/core/ports/agentPorts';
import { GitServer } from '../support/gitServer';
import { ensureNetwork, idPrefix, removeAgents, TEST_NETWORK, testEngine, testImage, TEST_LIMITS } from '../support/testEnv';
import { TCP_PROBE_SCRIPT } from '../support/tcpProbe';
import { waitFor } from '../support/waitFor';
import { httpGet } from '../support/http';

describe('ports: discovery in agents and forwards to 127.0.0.1', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  let ports: AgentPorts;
  let blocker: Server | undefined;
  const prefix = idPrefix('ports');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('site', { 'index.html': '<h1>from main</h1>\n' });
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'P', email: 'p@example.com' } });
    ports = new AgentPorts({ exec: service.exec, agents: service.agents, engine });
    ports.start();
    // Something else holds 127.0.0.1:3000, the port a forward of 3000 would like: it must never be taken.
    blocker = createServer();
    await new Promise<void>((resolve) => {
      blocker?.once('error', () => resolve()); // already held by something on this machine: as good
      blocker?.listen(3000, '127.0.0.1', resolve);
    });
  });

  after(async () => {
    ports?.dispose();
    blocker?.close();
    await removeAgents(engine, prefix);
    await service?.snapshots.prune(0).catch(() => undefined);
    service?.dispose();
    await server?.stop();
  });

  /** Starts a static server on port 3000 in the agent and waits until the agent listens there. */
  async function serve(agentId: string): Promise<void> {
    const agent = await service.agents.get(agentId);
    await engine.spawnDetached(agent.containerId, ['python3', '-m', 'http.server', '3000'], { workdir: '/workspace' });
    const deadline = Date.now() + 15_000;
    while (!(await ports.discover(agentId)).some((p) => p.port === 3000 && p.reachable)) {
      assert.ok(Date.now() < deadline, 'the dev server did not start listening');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('discovers a listening port and serves the agent\'s page through the forward', async () => {
    await service.creator.create({ id: id('one'), repoUrl: server.url('site') });
    assert.deepEqual((await ports.discover(id('one'))).filter((p) => p.port === 3000), []);
    await serve(id('one'));
    const forward = await ports.forward(id('one'), 3000);
    assert.match(forward.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(forward.hostPort, 3000, 'a host port in use was taken');
    assert.equal(await httpGet(`${forward.url}/index.html`), '<h1>from main</h1>\n');
    assert.deepEqual(await ports.forward(id('one'), 3000), forward, 'a second forward of the same port is the same');
  });

  it('gives two agents on the same port two host ports, each serving its own branch', async () => {
    await service.creator.create({ id: id('two'), repoUrl: server.url('site') });
    const agentTwo = await service.agents.get(id('two'));
    await engine.exec(agentTwo.containerId, ['sh', '-c', 'echo "<h1>from two</h1>" > /workspace/index.html']);
    await serve(id('two'));
    const one = ports.forwards(id('one'))[0];
    const two = await ports.forward(id('two'), 3000);
    assert.ok(one);
    assert.notEqual(one.hostPort, two.hostPort);
    assert.notEqual(two.hostPort, 3000, 'a host port in use was taken');
    const [pageOne, pageTwo] = await Promise.all([httpGet(`${one.url}/index.html`), httpGet(`${two.url}/index.html`)]);
    assert.equal(pageOne, '<h1>from main</h1>\n');
    assert.equal(pageTwo, '<h1>from two</h1>\n');
  });

  it('keeps a forward from other agents: it listens on 127.0.0.1 only, not on the address agents reach the host at', async () => {
    const [two] = ports.forwards(id('two'));
    assert.ok(two);
    const gateway = await ensureNetwork(engine);
    const probe = (port: number): Promise<{ exitCode: number; stdout: string }> => service.exec.run(id('one'), ['python3', '-c', TCP_PROBE_SCRIPT, gateway, String(port)], { timeoutMs: 10_000 });
    // The probe's control: a host service on every address is what agents do reach there.
    const open = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => open.listen(0, '0.0.0.0', resolve));
    try {
      const reached = await probe((open.address() as { port: number }).port);
      assert.equal(reached.exitCode, 0, `the control failed, so the probe proves nothing: ${reached.stdout}`);
    } finally {
      open.close();
    }
    // The attacker's case: agent one goes for agent two's forward through the host.
    const attempt = await probe(two.hostPort);
    assert.notEqual(attempt.exitCode, 0, `agent one reached agent two's forward at ${gateway}:${two.hostPort}: ${attempt.stdout}`);
    assert.equal(await httpGet(`${two.url}/index.html`), '<h1>from two</h1>\n', 'the forward itself still serves the host');
  });

  it('stops forwarding when the agent is removed', async () => {
    const [forward] = ports.forwards(id('two'));
    assert.ok(forward);
    await engine.removeContainer(containerNameFor(id('two')));
    const deadline = Date.now() + 10_000;
    while (ports.forwards(id('two')).length > 0) {
      assert.ok(Date.now() < deadline, 'the forward outlived its agent');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await assert.rejects(httpGet(`${forward.url}/`), /ECONNREFUSED/);
    assert.equal(ports.forwards(id('one')).length, 1, 'another agent\'s forward was touched');
  });

  it('closes an agent\'s forwards while it is stopped and reopens them on the same host port when it runs again', async () => {
    const [previous] = ports.forwards(id('one'));
    assert.ok(previous);
    await service.agents.stop(id('one'));
    await waitFor('the forward to close with its agent', () => ports.forwards(id('one')).length === 0, 10_000);
    await service.agents.start(id('one'));
    await waitFor('the forward to come back', () => ports.forwards(id('one')).length === 1, 10_000);
    assert.equal(ports.forwards(id('one'))[0]?.hostPort, previous.hostPort);
    await serve(id('one'));
    await waitFor('the page through the same address', async () => (await httpGet(`${previous.url}/index.html`).catch(() => '')) === '<h1>from main</h1>\n', 10_000);
  });
});
