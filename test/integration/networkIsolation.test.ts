import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { containerAddress } from '../../src/core/docker/containerAddress';
import type { Engine } from '../../src/core/docker/engine';
import { InvalidInputError } from '../../src/core/errors';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { containerNameFor } from '../../src/core/names';
import { GitServer } from '../support/gitServer';
import { httpGet } from '../support/http';
import { idPrefix, removeAgents, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { TCP_PROBE_SCRIPT } from '../support/tcpProbe';
import { waitFor } from '../support/waitFor';
import { trustSetup } from '../../src/core/setup/setupProposal';


/** A static server on every IPv6 address of the container. */
const SERVE_IPV6 = 'import http.server, socket, sys\nclass Server(http.server.HTTPServer):\n    address_family = socket.AF_INET6\nServer(("::", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()';

const CAP_NET_RAW = 13;

/** `/proc/self/status` of a process that has no NET_RAW and cannot gain privileges. */
function assertConfined(status: string): void {
  const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? 'ffffffffffffffff'}`);
  assert.equal((capEff >> BigInt(CAP_NET_RAW)) & 1n, 0n, `CapEff ${capEff.toString(16)} includes NET_RAW`);
  assert.match(status, /^NoNewPrivs:\s*1$/m);
}

describe('network isolation: agents cannot reach each other', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  /** Agent A's address on its network and the port its server listens on. */
  let target: { address: string; port: number };
  const prefix = idPrefix('net');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('site', { 'index.html': '<h1>agent a</h1>\n' });
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'N', email: 'n@example.com' }, setupConsent: trustSetup });
    const outcomes = await service.creator.createMany(['a', 'b'].map((name) => ({ id: id(name), repoUrl: server.url('site') })), { concurrency: 2 });
    for (const outcome of outcomes) {
      assert.ok('agent' in outcome, `create failed: ${'error' in outcome ? outcome.error.message : ''}`);
    }
    // The attacker's target: agent A's dev server, serving its working tree (.git included).
    const a = await service.agents.get(id('a'));
    await engine.spawnDetached(a.containerId, ['python3', '-m', 'http.server', '3000'], { workdir: '/workspace' });
    const info = await engine.inspectContainer(a.containerId);
    const address = containerAddress(info);
    assert.ok(address, 'agent A has no address');
    target = { address, port: 3000 };
    await waitFor('agent A\'s server', async () => (await connectFrom(id('a'), '127.0.0.1', target.port)).exitCode === 0);
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await service?.snapshots.prune(0).catch(() => undefined);
    service?.dispose();
    await server?.stop();
  });

  async function connectFrom(agentId: string, address: string, port: number): Promise<{ exitCode: number; stdout: string }> {
    return service.exec.run(agentId, ['python3', '-c', TCP_PROBE_SCRIPT, address, String(port)], { timeoutMs: 10_000 });
  }

  it('lets the host reach agent A\'s server (what a forward does)', async () => {
    assert.match(await httpGet(`http://${target.address}:${target.port}/index.html`), /agent a/);
  });

  it('refuses agent B a connection to agent A\'s server', async () => {
    const attempt = await connectFrom(id('b'), target.address, target.port);
    assert.notEqual(attempt.exitCode, 0, `agent B reached agent A's server: ${attempt.stdout}`);
  });

  it('refuses agent B a connection to agent A over IPv6, where the engine gives agents a link-local address', async (t) => {
    const interfaces = (await service.exec.run(id('a'), ['cat', '/proc/net/if_inet6'])).stdout;
    const hex = /^(fe80[0-9a-f]{28})\s.*\seth0$/m.exec(interfaces)?.[1];
    if (!hex) {
      t.skip('this engine gives agents no IPv6 address');
      return;
    }
    const address = `${hex.match(/.{4}/g)?.join(':')}%eth0`;
    const a = await service.agents.get(id('a'));
    await engine.spawnDetached(a.containerId, ['python3', '-c', SERVE_IPV6, '3001'], { workdir: '/workspace' });
    await waitFor('agent A\'s IPv6 server', async () => (await connectFrom(id('a'), '::1', 3001)).exitCode === 0);
    const attempt = await connectFrom(id('b'), address, 3001);
    assert.notEqual(attempt.exitCode, 0, `agent B reached agent A over IPv6: ${attempt.stdout}`);
  });

  it('still lets an agent reach its git remote', async () => {
    const listed = await service.exec.git(id('b'), ['ls-remote', 'origin', 'main'], { timeoutMs: 20_000 });
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.match(listed.stdout, /refs\/heads\/main/);
  });

  it('keeps a repository\'s install (run in the snapshot build) from reaching an agent, and confines it as an agent', async () => {
    // The install of an untrusted repository probes agent A and records what it found, and what it may do, in the snapshot.
    const probe = `python3 -c '${TCP_PROBE_SCRIPT}' ${target.address} ${target.port} > probe.txt 2>&1; cat /proc/self/status > status.txt`;
    server.createRepo('probe', { '.gitiso.json': JSON.stringify({ install: probe }) });
    await service.creator.create({ id: id('probe'), repoUrl: server.url('probe') });
    const found = (await service.exec.run(id('probe'), ['cat', 'probe.txt'])).stdout;
    assert.match(found, /^closed/, `the snapshot build reached agent A: ${found}`);
    assertConfined((await service.exec.run(id('probe'), ['cat', 'status.txt'])).stdout);
  });

  it('gives agents no raw sockets and no way to gain privileges', async () => {
    assertConfined((await service.exec.run(id('b'), ['cat', '/proc/self/status'])).stdout);
    // What ping or an ARP spoofer needs.
    const raw = await service.exec.run(id('b'), ['python3', '-c', 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)']);
    assert.notEqual(raw.exitCode, 0, 'an agent opened a raw socket');
    assert.match(raw.stderr, /PermissionError|Operation not permitted/);
  });

  for (const network of ['host', 'none', 'container:gitiso-other', 'bridge', 'default']) {
    it(`refuses the network '${network}' with an error naming the setting, before anything is made`, async () => {
      const core = createCore({ engine, defaultImage: testImage(), network, limits: TEST_LIMITS, identity: { name: 'N', email: 'n@example.com' }, setupConsent: trustSetup });
      const agentId = id(`bad-${network.replace(/[^a-z]/g, '')}`);
      try {
        const refused = (error: Error): boolean => error instanceof InvalidInputError && error.message.includes('gitiso.network') && error.message.includes(`'${network}'`);
        await assert.rejects(core.creator.create({ id: agentId, repoUrl: server.url('site') }), refused);
        const [outcome] = await core.creator.createMany([{ id: agentId, repoUrl: server.url('site') }]).catch((error: Error) => [{ id: agentId, error }]);
        assert.ok(outcome && 'error' in outcome && refused(outcome.error), `createMany made an agent on '${network}'`);
        assert.equal(await engine.inspectContainer(containerNameFor(agentId)), undefined, `a container was left on '${network}'`);
      } finally {
        core.dispose();
        await removeAgents(engine, agentId);
      }
    });
  }
});
