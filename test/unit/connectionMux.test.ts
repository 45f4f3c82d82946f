import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ConnectionMux, MAX_AGENT_CONNECTIONS } from '../../src/core/docker/connectionMux';
import { encodeFrame, FrameReader, MAX_FRAME_DATA, MuxProtocolError } from '../../src/core/docker/muxFrames';
import { muxArgv, type MuxProgram } from '../../src/core/docker/muxPrograms';
import { waitFor } from '../support/waitFor';
import { freePort } from '../support/gitServer';

const MISSING = 'the agent has neither python3 nor node: install one (the gitiso.image setting)';


/** The proxy's stand-in: answers with what it got (method, path, body length). */
function httpEcho(): Server {
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

/** Echoes what it gets, and ends its side when the client ends its own (a half-close passed on). */
async function echoServer(port: number): Promise<TcpServer> {
  const server = createTcpServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/** Writes the payload on a connection, ends it, and reads all that comes back. */
function exchange(connection: Duplex, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const read: Buffer[] = [];
    connection.on('data', (chunk: Buffer) => read.push(chunk));
    connection.on('end', () => resolve(Buffer.concat(read)));
    connection.on('error', reject);
    connection.end(payload);
  });
}

/** The listener run on this machine as it would run in an agent: its stdio is the relay's stream. */
function runListener(argv: string[], env?: NodeJS.ProcessEnv): { child: ChildProcessWithoutNullStreams; relay: ConnectionMux; server: Server } {
  const [command = 'sh', ...args] = argv;
  const child = spawn(command === 'sh' ? '/bin/sh' : command, args, { stdio: 'pipe', env: env ?? process.env });
  const server = httpEcho();
  const relay = new ConnectionMux({ name: 'the relay in a', stream: Duplex.from({ readable: child.stdout, writable: child.stdin }), accept: (connection) => server.emit('connection', connection), missingProgram: MISSING });
  return { child, relay, server };
}

/** A relay over a stream the test writes as the agent's side would (or as a hostile one would). */
function fakeRelay(readyTimeoutMs?: number): { agentSide: PassThrough; written: Buffer[]; relay: ConnectionMux; accepted: Duplex[] } {
  const agentSide = new PassThrough();
  const toAgent = new PassThrough();
  const written: Buffer[] = [];
  toAgent.on('data', (chunk: Buffer) => written.push(chunk));
  const accepted: Duplex[] = [];
  const relay = new ConnectionMux({ name: 'the relay in a', stream: Duplex.from({ readable: agentSide, writable: toAgent }), accept: (connection) => accepted.push(connection), missingProgram: MISSING, readyTimeoutMs });
  return { agentSide, written, relay, accepted };
}

describe('connection mux: many connections in an agent over one stream', () => {
  const children: ChildProcessWithoutNullStreams[] = [];
  after(() => children.forEach((child) => child.kill('SIGKILL')));

  for (const program of ['python3', 'node', undefined] as Array<MuxProgram | undefined>) {
    it(`listening: carries concurrent requests and a large body both ways (${program ?? 'the first the container has'}), and ends the program when closed`, async () => {
      const port = await freePort('127.0.0.1');
      const { child, relay } = runListener(muxArgv('listen', port, program));
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

  for (const program of ['python3', 'node'] as MuxProgram[]) {
    it(`connecting (${program}): carries concurrent connections to the port with their half-close, closes one the port refuses, and ends with its stream`, async () => {
      const port = await freePort('127.0.0.1');
      const server = await echoServer(port);
      const [command = program, ...args] = muxArgv('connect', port, program);
      const child = spawn(command, args, { stdio: 'pipe' });
      children.push(child);
      const mux = new ConnectionMux({ name: 'the forward in a', stream: Duplex.from({ readable: child.stdout, writable: child.stdin }), missingProgram: MISSING });
      try {
        // Connections opened before the program is up wait in its stdin.
        const payloads = Array.from({ length: 12 }, (_, n) => Buffer.alloc(n === 0 ? 3 * MAX_FRAME_DATA + 5 : 100 + n, n));
        const answers = await Promise.all(payloads.map((payload) => exchange(mux.connect(), payload)));
        answers.forEach((answer, n) => assert.ok(answer.equals(payloads[n] as Buffer), `connection ${n} got ${answer.length} bytes back`));
        await mux.ready;
      } finally {
        server.close();
      }
      // Nothing listens now: the connection is closed, not left hanging.
      const refused = mux.connect();
      refused.resume();
      await once(refused, 'close');
      assert.equal(mux.open, true, 'one refused connection ended the mux');
      mux.close();
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      assert.ok(code === 0 || signal !== null, `the program exited with ${code}`);
      // A connection after its end fails at once (once() would reject on its error).
      const late = mux.connect();
      const failed = await new Promise<Error | undefined>((resolve) => {
        let error: Error | undefined;
        late.on('error', (cause: Error) => (error = cause));
        late.on('close', () => resolve(error));
      });
      assert.match(String(failed?.message), /has ended/);
    });
  }

  it('says what to install when the container has neither python3 nor node', async () => {
    const { child, relay } = runListener(muxArgv('listen', await freePort('127.0.0.1')), { PATH: '/nonexistent' });
    children.push(child);
    await assert.rejects(relay.ready, new RegExp(MISSING.replace(/[().]/g, '\\$&')));
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
    assert.throws(() => new FrameReader().push(encodeFrame('D', 1).fill(0xff, 5, 9)), MuxProtocolError);
  });

  it('takes no connection the agent opens to a connecting mux', async () => {
    const agentSide = new PassThrough();
    const toAgent = new PassThrough();
    toAgent.resume();
    const mux = new ConnectionMux({ name: 'the forward in a', stream: Duplex.from({ readable: agentSide, writable: toAgent }), missingProgram: MISSING });
    agentSide.write(encodeFrame('L', 0));
    await mux.ready;
    agentSide.write(encodeFrame('O', 7));
    agentSide.write(encodeFrame('D', 7, Buffer.from('unasked')));
    const mine = mux.connect();
    const read: Buffer[] = [];
    mine.on('data', (chunk: Buffer) => read.push(chunk));
    agentSide.write(encodeFrame('D', 1, Buffer.from('mine')));
    await waitFor('its own connection\'s bytes', () => Buffer.concat(read).toString() === 'mine', 2_000);
    assert.equal(mux.open, true);
    mux.close();
    assert.equal(mine.destroyed, true);
  });

  it(`holds at most ${MAX_AGENT_CONNECTIONS} connections, and ignores frames for connections it does not hold or after their end`, async () => {
    const { agentSide, written, relay, accepted } = fakeRelay();
    agentSide.write(encodeFrame('L', 0));
    await relay.ready;
    for (let connection = 1; connection <= MAX_AGENT_CONNECTIONS + 6; connection++) {
      agentSide.write(encodeFrame('O', connection));
    }
    // An open for a connection already open, and the number 0, open nothing.
    agentSide.write(encodeFrame('O', 1));
    agentSide.write(encodeFrame('O', 0));
    await waitFor('the opens to be read', () => written.length >= 6, 2_000);
    assert.equal(accepted.length, MAX_AGENT_CONNECTIONS);
    const closed = new FrameReader().push(Buffer.concat(written));
    assert.deepEqual(closed.map((frame) => `${frame.kind}${frame.connection}`), Array.from({ length: 6 }, (_, n) => `C${MAX_AGENT_CONNECTIONS + 1 + n}`));
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
