import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import { openExecStream } from '../../src/core/docker/execStream';
import { AgentPorts } from '../../src/core/ports/agentPorts';
import { GO_BYTE, RELAY_PROGRAMS, relayArgv } from '../../src/core/ports/relayPrograms';
import { SPARES_PER_FORWARD } from '../../src/core/ports/warmRelays';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_NETWORK, testEngine, testImage, TEST_LIMITS } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

/** An echo server on 3001 in the agent: every byte back as it came; the client's end ends it. */
const ECHO_SERVER = String.raw`
import socket, threading
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', 3001)); s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/**
 * A hostile mux program: earlier in PATH than python3, it says it is up, then
 * sends valid frames of connection 1 without end (counting MiB out) and never reads.
 */
const HOSTILE_PYTHON = "#!/bin/sh\nprintf 'L\\000\\000\\000\\000\\000\\000\\000\\000'\ni=0\nwhile :; do printf 'D\\000\\000\\000\\001\\000\\001\\000\\000' || exit 0; head -c 65536 /dev/zero | tr '\\0' G || exit 0; i=$((i+1)); echo $((i / 16)) > /tmp/hostile-count.new; mv /tmp/hostile-count.new /tmp/hostile-count; done\n";

/** A hostile relay: earlier in PATH than any socat, it prints without end (counting what it got out) and never reads or exits. */
const HOSTILE_SOCAT = '#!/bin/sh\ni=0\nwhile :; do head -c 1048576 /dev/zero | tr "\\0" "G" || exit 0; i=$((i+1)); echo "$i" > /tmp/hostile-count.new; mv /tmp/hostile-count.new /tmp/hostile-count; echo noise >&2; done\n';

const digest = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The whole body of a GET, as bytes. */
function fetchBytes(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** Sends `payload` and reads as many bytes back (no half-close: every relay program carries this). */
function echoExchange(stream: Duplex, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) {
        resolve(Buffer.concat(chunks));
      }
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`closed after ${received} of ${payload.length} bytes`)));
    stream.write(payload);
  });
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('exec relay: forwards through the engine\'s own API', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  let ports: AgentPorts;
  let muxPorts: AgentPorts;
  const prefix = idPrefix('relay');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('site', { 'index.html': '<h1>through the engine</h1>\n' });
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'R', email: 'r@example.com' } });
    // An exec per connection here (the image has python3, which would take the mux); the mux's own tests below.
    ports = new AgentPorts({ exec: service.exec, agents: service.agents, engine, via: 'exec', execMux: false });
    ports.start();
    muxPorts = new AgentPorts({ exec: service.exec, agents: service.agents, engine, via: 'exec' });
    muxPorts.start();
  });

  after(async () => {
    ports?.dispose();
    muxPorts?.dispose();
    await removeAgents(engine, prefix);
    await service?.snapshots.prune(0).catch(() => undefined);
    service?.dispose();
    await server?.stop();
  });

  /** The first agent's processes before any forward (its servers' shells, if any). */
  let oneBaseline: string[] = [];

  const containerOf = async (agentId: string): Promise<string> => (await service.agents.get(agentId)).containerId;

  /** The container's processes other than its init, the servers the test started and the `ps` asking. */
  async function relayProcesses(agentId: string): Promise<string[]> {
    const { stdout } = await engine.exec(await containerOf(agentId), ['ps', '-ww', '-e', '-o', 'pid=,args=']);
    return stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !/^1 /.test(line) && !/ps -ww -e -o/.test(line) && !/http\.server|ECHO|import socket, threading|gitiso-channel|sleep infinity/.test(line));
  }

  /** Connections the agent's servers have accepted on `port` and hold open, from the container's /proc/net/tcp. */
  async function acceptedOn(agentId: string, port: number): Promise<number> {
    const { stdout } = await engine.exec(await containerOf(agentId), ['cat', '/proc/net/tcp', '/proc/net/tcp6']);
    const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    return stdout.split('\n').filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(local) && fields[3] === '01';
    }).length;
  }

  /** Waits until the agent runs `expected` more relay processes than `baseline` (each waiting spare is one). */
  async function relaysSettle(agentId: string, baseline: readonly string[], expected: number, what: string): Promise<void> {
    await waitFor(what, async () => (await relayProcesses(agentId)).length === baseline.length + expected, 10_000).catch(async (error: unknown) => {
      throw new Error(`${String(error)}: ${(await relayProcesses(agentId)).join(' | ')} (before: ${baseline.join(' | ')})`);
    });
  }

  /**
   * A hostile program in the container prints G without end, counting the MiB
   * it got out in /tmp/hostile-count: once its client stops reading, it must
   * be held back, not read into the host's memory (it stops once the buffers
   * on the way are full). Returns the MiB it got out.
   */
  async function heldBack(socket: Socket, container: string, what: string): Promise<number> {
    const first = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    assert.match(first.toString(), /^G+$/, `${what} did not run: the case proves nothing`);
    socket.pause();
    const count = async (): Promise<number> => Number((await engine.exec(container, ['cat', '/tmp/hostile-count'])).stdout.trim());
    let previous = -1;
    let held = await count();
    await waitFor(`${what} to be held back`, async () => {
      [previous, held] = [held, await count()];
      await new Promise((resolve) => setTimeout(resolve, 500));
      return held === previous;
    }, 20_000);
    assert.ok(held < 32, `${held} MiB went out while the client read one chunk`);
    return held;
  }

  async function listen(agentId: string): Promise<void> {
    const container = await containerOf(agentId);
    await engine.spawnDetached(container, ['python3', '-m', 'http.server', '3000'], { workdir: '/workspace' });
    await engine.spawnDetached(container, ['python3', '-c', ECHO_SERVER]);
    await waitFor('the servers to listen', async () => {
      const listening = await ports.discover(agentId);
      return [3000, 3001].every((port) => listening.some((p) => p.port === port));
    });
  }

  it('keeps spares that do not connect before use, serves a page and a 5 MB file byte-exact through them, and leaves no relay running once the forward closes', async () => {
    await service.creator.create({ id: id('one'), repoUrl: server.url('site') });
    const container = await containerOf(id('one'));
    await engine.exec(container, ['sh', '-c', 'head -c 5242880 /dev/urandom > /workspace/big.bin']);
    await listen(id('one'));
    const baseline = await relayProcesses(id('one'));
    oneBaseline = baseline;

    const forward = await ports.forward(id('one'), 3000);
    await relaysSettle(id('one'), baseline, SPARES_PER_FORWARD, 'the spare relays to start');
    assert.equal(await acceptedOn(id('one'), 3000), 0, 'a spare relay connected to the server before it was used');
    const page = await fetchBytes(`${forward.url}/index.html`);
    assert.equal(page.toString(), '<h1>through the engine</h1>\n');
    const big = await fetchBytes(`${forward.url}/big.bin`);
    const inContainer = (await engine.exec(container, ['sha256sum', '/workspace/big.bin'])).stdout.split(' ')[0];
    assert.equal(big.length, 5 * 1024 * 1024);
    assert.equal(digest(big), inContainer);

    await relaysSettle(id('one'), baseline, SPARES_PER_FORWARD, 'every used relay to end with its connection, the spares replaced');
    assert.equal(await acceptedOn(id('one'), 3000), 0, 'a replacement spare connected to the server before it was used');

    await ports.stop(id('one'), 3000);
    await relaysSettle(id('one'), baseline, 0, 'no relay left once the forward closed');
  });

  it('carries a long exchange both ways (5 MB up and back, then 200 small messages) and ends the exec when the client closes', async () => {
    const baseline = await relayProcesses(id('one'));
    const forward = await ports.forward(id('one'), 3001);
    await relaysSettle(id('one'), baseline, SPARES_PER_FORWARD, 'the spare relays to start');
    const socket = await connectTo(forward.hostPort);
    const payload = randomBytes(5 * 1024 * 1024);
    assert.equal(digest(await echoExchange(socket, payload)), digest(payload));
    socket.removeAllListeners('data');
    socket.removeAllListeners('close');
    for (let i = 0; i < 200; i++) {
      const message = Buffer.from(`message ${i}\n`);
      assert.equal((await echoExchange(socket, message)).toString(), message.toString());
      for (const event of ['data', 'close', 'error']) {
        socket.removeAllListeners(event);
      }
    }
    assert.ok((await relayProcesses(id('one'))).length > baseline.length + SPARES_PER_FORWARD, 'no relay ran in the container while the connection was open: the count proves nothing');
    // The used relay's connection shows, and only it: the spares' count of 0 elsewhere means something.
    assert.equal(await acceptedOn(id('one'), 3001), 1);
    socket.destroy();
    await relaysSettle(id('one'), baseline, SPARES_PER_FORWARD, 'the relay to end with its client, the spares replaced');
  });

  it('runs each relay program the image has, with its half-close where it passes one', async () => {
    const container = await containerOf(id('one'));
    const baseline = await relayProcesses(id('one'));
    const { stdout } = await engine.exec(container, ['sh', '-c', 'for p in bash python3 perl; do command -v "$p" >/dev/null && echo "$p"; done']);
    const present = RELAY_PROGRAMS.filter((program) => stdout.split('\n').includes(program.name));
    assert.ok(present.length >= 2, `the test image has too few relay programs: ${stdout}`);
    for (const program of present) {
      const stream = openExecStream(engine, { containerId: container, argv: relayArgv(program, 3001), halfClose: program.halfClose });
      const payload = randomBytes(256 * 1024);
      stream.write(GO_BYTE);
      assert.equal(digest(await echoExchange(stream, payload)), digest(payload), program.name);
      stream.removeAllListeners('close');
      stream.removeAllListeners('data');
      stream.resume();
      stream.on('error', () => undefined);
      const ended = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      stream.end();
      // A program that passes the half-close on ends when the server answers it (the echo server closes); one that does not, ends then too.
      await ended;
    }
    await waitFor('no relay program left', async () => (await relayProcesses(id('one'))).length === baseline.length, 10_000);
  });

  it('carries every connection of a forward over one exec (a mux): a page, a 5 MB file byte-exact, a burst of 16 at once; nothing left once the forward closes', async () => {
    const container = await containerOf(id('one'));
    const baseline = await relayProcesses(id('one'));
    const forward = await muxPorts.forward(id('one'), 3000);
    assert.equal(forward.through, 'engine API');
    assert.equal((await fetchBytes(`${forward.url}/index.html`)).toString(), '<h1>through the engine</h1>\n');
    const big = await fetchBytes(`${forward.url}/big.bin`);
    assert.equal(digest(big), (await engine.exec(container, ['sha256sum', '/workspace/big.bin'])).stdout.split(' ')[0]);
    const started = performance.now();
    const pages = await Promise.all(Array.from({ length: 16 }, () => fetchBytes(`${forward.url}/index.html`)));
    const burstMs = performance.now() - started;
    assert.ok(pages.every((page) => page.toString() === '<h1>through the engine</h1>\n'));
    // One program in the container served them all.
    await relaysSettle(id('one'), baseline, 1, 'one mux program while the forward is open');
    console.log(`      16 connections at once through the mux in ${burstMs.toFixed(0)} ms`);
    await muxPorts.stop(id('one'), 3000);
    await relaysSettle(id('one'), baseline, 0, 'no mux program left once the forward closed');
  });

  it('the attacker\'s case: a hostile mux program is held back once its client stops reading, and ends with the forward', async (t) => {
    await service.creator.create({ id: id('evil-mux'), repoUrl: server.url('site') });
    const container = await containerOf(id('evil-mux'));
    await listen(id('evil-mux'));
    // After its servers started (they are python3): the mux's python3 is the agent's own now.
    await engine.putFile(container, '/usr/local/bin/python3', Buffer.from(HOSTILE_PYTHON), 0o755);
    const baseline = await relayProcesses(id('evil-mux'));
    const forward = await muxPorts.forward(id('evil-mux'), 3000);
    const socket = await connectTo(forward.hostPort);
    socket.on('error', () => undefined);
    t.diagnostic(`the hostile mux program was held back after ${await heldBack(socket, container, 'the hostile program')} MiB`);
    socket.destroy();
    await muxPorts.stop(id('evil-mux'));
    await relaysSettle(id('evil-mux'), baseline, 0, 'the hostile program ended with the forward');
  });

  it('the attacker\'s case: a hostile relay program costs only its own connection, bounded, and ends when the client closes', async (t) => {
    await service.creator.create({ id: id('evil'), repoUrl: server.url('site') });
    const container = await containerOf(id('evil'));
    await engine.putFile(container, '/usr/local/bin/socat', HOSTILE_SOCAT, 0o755);
    await listen(id('evil'));
    const baseline = await relayProcesses(id('evil'));
    const forward = await ports.forward(id('evil'), 3000);

    const socket = await connectTo(forward.hostPort);
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    t.diagnostic(`the hostile relay was held back after ${await heldBack(socket, container, 'the hostile relay')} MiB`);
    // Meanwhile another agent's forward is untouched.
    const other = await ports.forward(id('one'), 3000);
    assert.equal((await fetchBytes(`${other.url}/index.html`)).toString(), '<h1>through the engine</h1>\n');

    socket.destroy();
    await relaysSettle(id('evil'), baseline, SPARES_PER_FORWARD, 'the hostile relay to be ended with its client');
    await ports.stop(id('evil'));
    await ports.stop(id('one'));
    await relaysSettle(id('evil'), baseline, 0, 'no spare left once the forwards closed');
    await relaysSettle(id('one'), oneBaseline, 0, 'no spare left in the other agent once its forwards closed');
  });
});
