import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AgentExec } from '../../src/core/agentExec';
import type { Engine } from '../../src/core/docker/engine';
import { containerNameFor } from '../../src/core/names';
import { AgentPorts } from '../../src/core/ports/agentPorts';
import { freePort } from '../support/gitServer';
import { httpGet } from '../support/http';

/** Every connection the dev servers accepted, so the suite can end them all. */
const accepted = new Set<Socket>();

/** A dev server that answers with its agent's name, on a loopback address of its own (as an agent has its own IP). */
async function devServer(host: string, port: number, name: string): Promise<Server> {
  const server = createServer((socket) => {
    accepted.add(socket);
    socket.on('close', () => accepted.delete(socket));
    socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${name.length}\r\nConnection: close\r\n\r\n${name}`);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}

describe('agent ports: a host port belongs to one agent', () => {
  const addresses: Record<string, string> = { [containerNameFor('t-one')]: '127.0.0.2', [containerNameFor('t-two')]: '127.0.0.3' };
  // Only what forward() asks of the engine: the agent's container runs, at its address.
  const engine = {
    address: 'unix:///var/run/docker.sock',
    operatingSystem: async () => (process.platform === 'linux' ? 'Debian GNU/Linux 12 (bookworm)' : 'Docker Desktop'),
    inspectContainer: async (name: string) => ({ State: { Running: true }, NetworkSettings: { Networks: { net: { IPAddress: addresses[name] } } } }),
  } as unknown as Engine;
  const ports = new AgentPorts({ exec: {} as AgentExec, agents: { list: async () => [] }, engine, via: 'tcp' });
  let port = 0;
  const servers: Server[] = [];

  before(async () => {
    // The same container port in both agents, free on 127.0.0.1: the host port each forward would like.
    port = await freePort('127.0.0.1');
    servers.push(await devServer('127.0.0.2', port, 'one'), await devServer('127.0.0.3', port, 'two'));
  });

  after(async () => {
    await ports.stop('t-one');
    await ports.stop('t-two');
    ports.dispose();
    // A relayed connection may still be half-closed: end them, or close() waits for ever.
    accepted.forEach((socket) => socket.destroy());
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('never gives another agent a host port an agent had, so its old address never shows the other agent', async () => {
    const one = await ports.forward('t-one', port);
    assert.equal(one.hostPort, port, 'the container port, free on the host, is the first choice');
    assert.equal(await httpGet(`${one.url}/`), 'one');
    await ports.stop('t-one', port);

    // The attacker's case: the other agent forwards the same port while the first one's preview still knows its old address.
    const two = await ports.forward('t-two', port);
    assert.notEqual(two.hostPort, one.hostPort, `agent two was given ${one.url}, agent one's address`);
    assert.equal(await httpGet(`${two.url}/`), 'two');
    await assert.rejects(httpGet(`${one.url}/`), /ECONNREFUSED/);

    // The first agent gets its own address back.
    const again = await ports.forward('t-one', port);
    assert.equal(again.hostPort, one.hostPort);
    assert.equal(await httpGet(`${again.url}/`), 'one');
  });
});
