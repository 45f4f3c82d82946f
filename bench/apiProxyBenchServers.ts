import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { ApiProxy } from '../src/core/apiProxy/apiProxy';
import { ConnectionMux } from '../src/core/docker/connectionMux';
import { muxArgv } from '../src/core/docker/muxPrograms';
import { freePort } from '../test/support/gitServer';

/**
 * The two processes of the API proxy bench, each on a core of its own:
 * `upstream <cert dir>` is an HTTPS API answering server-sent events (one
 * event at once on /first, N bytes as fast as the reader takes them on
 * /stream?bytes=N); `proxy <cert dir> <upstream url>` is gitiso's proxy in
 * front of it, and a relay to it (the agent's listener, python3, run here
 * as a process of its own: the relay's framing without an engine's exec).
 * Each tells its parent its port (and the proxy a token, and the relay's
 * port and token).
 */
const KEY = 'sk-bench-key';
const PIECE = Buffer.from(`data: ${'x'.repeat(16 * 1024 - 8)}\n\n`);

async function main(): Promise<void> {
  const [role, dir, upstreamUrl] = process.argv.slice(2);
  if (role === 'upstream') {
    const server = createServer({ key: readFileSync(`${dir}/server.key`), cert: readFileSync(`${dir}/server.pem`), noDelay: true }, (req, res) => {
      if (req.headers['x-api-key'] !== KEY) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const url = new URL(req.url ?? '/', 'https://localhost');
      if (url.pathname.endsWith('/first')) {
        res.end('data: {"usage":{"input_tokens":1,"output_tokens":1}}\n\n');
        return;
      }
      let left = Number(url.searchParams.get('bytes') ?? 0);
      const write = (): void => {
        while (left > 0) {
          left -= PIECE.length;
          if (!res.write(PIECE)) {
            res.once('drain', write);
            return;
          }
        }
        res.end();
      };
      write();
    });
    server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port, key: KEY }));
    return;
  }
  const proxy = new ApiProxy({
    upstreams: [{ name: 'api', baseUrl: `${upstreamUrl}/v1`, keyHeader: 'x-api-key', tokenHeader: 'x-api-key' }],
    keyFor: () => KEY,
    ca: readFileSync(`${dir}/ca.pem`),
  });
  const port = await proxy.listen('127.0.0.1');
  // The parent asks for this process's CPU time (µs) around each phase.
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuMicros: user + system });
  });
  const relayPort = await freePort('127.0.0.1');
  const [command = 'python3', ...args] = muxArgv('listen', relayPort, 'python3');
  const listener = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const relay = new ConnectionMux({ name: 'the bench relay', stream: Duplex.from({ readable: listener.stdout, writable: listener.stdin }), accept: (connection) => proxy.acceptRelayed('relayed', connection), missingProgram: 'python3 is needed' });
  await relay.ready;
  process.send?.({ port, token: proxy.grant('bench', { upstreams: ['api'] }), relayPort, relayToken: proxy.grant('relayed', { upstreams: ['api'], relayed: true }) });
}


void main();
