import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { agentListenerArgv, type ListenerProgram } from '../../src/core/apiProxy/agentListener';
import { MAX_RELAYED_CONNECTIONS, ProxyRelay } from '../../src/core/apiProxy/proxyRelay';
import { encodeFrame, FrameReader, MAX_FRAME_DATA, RelayProtocolError } from '../../src/core/apiProxy/relayFrames';
import { waitFor } from '../support/waitFor';

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The proxy's stand-in: answers with what it got (method, path, body length). */
function echoServer(): Server {
  return createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, bytes })));
  });
}

function call(port: number, path: string, body = Buffer.alloc(0)): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The listener run on this machine as it would run in an agent: its stdio is the relay's stream. */
function runListener(argv: string[], env?: NodeJS.ProcessEnv): { child: ChildProcessWithoutNullStreams; relay: ProxyRelay; server: Server } {
  const [command = 'sh', ...args] = argv;
  const child = spawn(command === 'sh' ? '/bin/sh' : command, args, { stdio: 'pipe', env: env ?? process.env });
  const server = echoServer();
  const relay = new ProxyRelay({ agentId: 'a', stream: Duplex.from({ readable: child.stdout, writable: child.stdin }), accept: (connection) => server.emit('connection', connection) });
  return { child, relay, server };
}

/** A relay over a stream the test writes as the agent's side would (or as a hostile one would). */
function fakeRelay(readyTimeoutMs?: number): { agentSide: PassThrough; written: Buffer[]; relay: ProxyRelay; accepted: Duplex[] } {
  const agentSide = new PassThrough();
  const toAgent = new PassThrough();
  const written: Buffer[] = [];
  toAgent.on('data', (chunk: Buffer) => written.push(chunk));
  const accepted: Duplex[] = [];
  const relay = new ProxyRelay({ agentId: 'a', stream: Duplex.from({ readable: agentSide, writable: toAgent }), accept: (connection) => accepted.push(connection), readyTimeoutMs });
  return { agentSide, written, relay, accepted };
}

describe('API proxy relay: connections made in an agent reach the proxy over one stream', () => {
  const children: ChildProcessWithoutNullStreams[] = [];
  after(() => children.forEach((child) => child.kill('SIGKILL')));

  for (const program of ['python3', 'node', undefined] as Array<ListenerProgram | undefined>) {
    it(`carries concurrent requests and a large body both ways (${program ?? 'the first the container has'}), and ends the listener when closed`, async () => {
      const port = await freePort();
      const { child, relay } = runListener(agentListenerArgv(port, program));
      children.push(child);
      await relay.ready;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => call(port, `/anthropic/${n}`)));
      assert.deepEqual(answers.map((answer) => JSON.parse(answer.body).url), Array.from({ length: 20 }, (_, n) => `/anthropic/${n}`));
      // More than a frame holds, split and joined again in order.
      const big = await call(port, '/big', Buffer.alloc(3 * MAX_FRAME_DATA + 17, 7));
      assert.equal(JSON.parse(big.body).bytes, 3 * MAX_FRAME_DATA + 17);
      relay.close();
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      assert.ok(code === 0 || signal !== null, `the listener exited with ${code}`);
      await assert.rejects(call(port, '/after'), /ECONNREFUSED/);
    });
  }

  it('says what to install when the container has neither python3 nor node', async () => {
    const { child, relay } = runListener(agentListenerArgv(await freePort()), { PATH: '/nonexistent' });
    children.push(child);
    await assert.rejects(relay.ready, /neither python3 nor node.*gitiso\.image setting/);
    assert.equal(relay.open, false);
  });

  it('gives up on a listener that never says it is up, and ends it', async () => {
    const { agentSide, relay } = fakeRelay(50);
    await assert.rejects(relay.ready, /did not start within 0\.05 s/);
    assert.equal(relay.open, false);
    assert.equal(agentSide.destroyed, true);
  });

  it('ends the relay on what is not a frame: an unknown kind, or a length over the bound', async () => {
    for (const bad of [Buffer.from('Zxxxxxxxx'), encodeFrame('D', 1, Buffer.alloc(0)).fill(0xff, 5, 9)]) {
      const { agentSide, relay, accepted } = fakeRelay();
      agentSide.write(encodeFrame('L', 0));
      await relay.ready;
      agentSide.write(encodeFrame('O', 1));
      await waitFor('the connection', () => accepted.length === 1, 2_000);
      agentSide.write(bad);
      await waitFor('the relay to end', () => !relay.open, 2_000);
      assert.equal(accepted[0]?.destroyed, true, 'a connection outlived its relay');
    }
    assert.throws(() => new FrameReader().push(encodeFrame('D', 1).fill(0xff, 5, 9)), RelayProtocolError);
  });

  it(`holds at most ${MAX_RELAYED_CONNECTIONS} connections, and ignores frames for connections it does not hold or after their end`, async () => {
    const { agentSide, written, relay, accepted } = fakeRelay();
    agentSide.write(encodeFrame('L', 0));
    await relay.ready;
    for (let connection = 1; connection <= MAX_RELAYED_CONNECTIONS + 6; connection++) {
      agentSide.write(encodeFrame('O', connection));
    }
    // An open for a connection already open, and the number 0, open nothing.
    agentSide.write(encodeFrame('O', 1));
    agentSide.write(encodeFrame('O', 0));
    await waitFor('the opens to be read', () => written.length >= 6, 2_000);
    assert.equal(accepted.length, MAX_RELAYED_CONNECTIONS);
    const closed = new FrameReader().push(Buffer.concat(written));
    assert.deepEqual(closed.map((frame) => `${frame.kind}${frame.connection}`), Array.from({ length: 6 }, (_, n) => `C${MAX_RELAYED_CONNECTIONS + 1 + n}`));
    // Bytes after a connection's end, and for one never opened, reach nobody.
    const first = accepted[0] as Duplex;
    const read: Buffer[] = [];
    first.on('data', (chunk: Buffer) => read.push(chunk));
    agentSide.write(encodeFrame('D', 1, Buffer.from('hello')));
    agentSide.write(encodeFrame('E', 1));
    agentSide.write(encodeFrame('D', 1, Buffer.from('late')));
    agentSide.write(encodeFrame('D', 999, Buffer.from('nobody')));
    await once(first, 'end');
    assert.equal(Buffer.concat(read).toString(), 'hello');
    assert.equal(relay.open, true);
    // The host closing a connection tells the agent's side once.
    written.length = 0;
    first.destroy();
    await waitFor('the close frame', () => written.length > 0, 2_000);
    assert.deepEqual(new FrameReader().push(Buffer.concat(written)).map((frame) => `${frame.kind}${frame.connection}`), ['C1']);
    relay.close();
    assert.ok(accepted.every((connection) => connection.destroyed));
  });
});
