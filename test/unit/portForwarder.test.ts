import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PortForwarder } from '../../src/core/ports/portForwarder';

/** A server on 127.0.0.1 that hands every connection to `handle`. */
async function listen(handle: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Connects to the forward, sends `payload`, half-closes, and collects what comes back until the forward closes. */
function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks));
    });
    socket.end(payload);
  });
}

const digest = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('port forwarder: a TCP relay on 127.0.0.1', () => {
  const servers: Server[] = [];
  const forwarders: PortForwarder[] = [];

  async function forwardTo(handle: (socket: Socket) => void): Promise<PortForwarder> {
    const { server, port } = await listen(handle);
    servers.push(server);
    const forwarder = await PortForwarder.open({ kind: 'tcp', host: '127.0.0.1', port });
    forwarders.push(forwarder);
    return forwarder;
  }

  after(async () => {
    await Promise.all(forwarders.map((forwarder) => forwarder.close()));
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('delivers the answer to a client that half-closed after its request (the relay as it was cut it off)', async () => {
    // Answers only once the client has said all it will (its FIN), as a request/response tool that half-closes expects.
    const forwarder = await forwardTo((socket) => {
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('end', () => setTimeout(() => socket.end(`got ${Buffer.concat(received).length} bytes`), 50));
    });
    assert.equal(String(await exchange(forwarder.hostPort, Buffer.from('hello'))), 'got 5 bytes');
  });

  it('carries 32 MB each way intact past a reader slower than the writer (backpressure)', async () => {
    const payload = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4096) {
      payload.writeUInt32BE(i, i);
    }
    // Echoes everything back, pausing now and then: the relay must hold nothing it cannot deliver, and lose nothing.
    const forwarder = await forwardTo((socket) => {
      socket.on('data', (chunk: Buffer) => {
        if (!socket.write(chunk)) {
          socket.pause();
          socket.once('drain', () => setTimeout(() => socket.resume(), 1));
        }
      });
      socket.on('end', () => socket.end());
    });
    const echoed = await exchange(forwarder.hostPort, payload);
    assert.equal(echoed.length, payload.length);
    assert.equal(digest(echoed), digest(payload));
  });

  it('ends the client\'s connection when the target refuses, and every open connection when it closes', async () => {
    const { server, port } = await listen(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const refused = await PortForwarder.open({ kind: 'tcp', host: '127.0.0.1', port });
    forwarders.push(refused);
    assert.equal((await exchange(refused.hostPort, Buffer.from('x'))).length, 0, 'a refused target gave bytes');

    let held: Socket | undefined;
    const forwarder = await forwardTo((socket) => {
      held = socket; // never answers
      socket.on('end', () => socket.end());
    });
    const client = connect({ host: '127.0.0.1', port: forwarder.hostPort });
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    while (!held) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const upstreamClosed = new Promise<void>((resolve) => held?.on('end', () => resolve()));
    await forwarder.close();
    await Promise.all([closed, upstreamClosed]);
  });

  it('relays to a unix socket target as to TCP: the answer after a half-close, 32 MB back intact', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gitiso-forward-')), 'target.sock');
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (chunk: Buffer) => {
        if (!socket.write(chunk)) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      });
      socket.on('end', () => socket.end('!'));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    servers.push(server);
    const forwarder = await PortForwarder.open({ kind: 'socket', path });
    forwarders.push(forwarder);
    const payload = Buffer.alloc(32 * 1024 * 1024, 7);
    const echoed = await exchange(forwarder.hostPort, payload);
    assert.equal(echoed.length, payload.length + 1);
    assert.equal(digest(echoed), digest(Buffer.concat([payload, Buffer.from('!')])));
  });
});
