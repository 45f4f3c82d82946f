import { readdirSync, readFileSync } from 'node:fs';
import type { Engine } from '../src/core/docker/engine';
import { ensureNetwork, TEST_LABEL, TEST_NETWORK } from '../test/support/testEnv';
import { waitUntilAnswering, type Endpoint } from './httpLoad';

export const SERVER_PORT = 3000;
/** What GET /big answers: a body for throughput in bytes, not requests. */
export const BIG_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Keep-alive HTTP/1.1 server answering every GET with the same few bytes in
 * one write with Nagle off, so the server adds no delay of its own; a GET
 * that asks for a WebSocket gets a minimal RFC 6455 echo (text and binary
 * frames back as they came, close answered).
 */
const SERVER_SCRIPT = String.raw`
import base64, hashlib, http.server, struct
BODY = b'ok\n'
RESPONSE = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' % (len(BODY), BODY)
BIG = b'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' % ${BIG_BODY_BYTES} + b'x' * ${BIG_BODY_BYTES}
GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    def do_GET(self):
        key = self.headers.get('Sec-WebSocket-Key')
        if self.path == '/big':
            self.wfile.write(BIG)
            return
        if not key:
            self.wfile.write(RESPONSE)
            return
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.wfile.write(('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' % accept).encode())
        self.close_connection = True
        self.echo()
    def echo(self):
        read = self.rfile.read
        while True:
            head = read(2)
            if len(head) < 2:
                return
            opcode, length = head[0] & 0x0f, head[1] & 0x7f
            if length == 126:
                length = struct.unpack('!H', read(2))[0]
            elif length == 127:
                length = struct.unpack('!Q', read(8))[0]
            mask = read(4) if head[1] & 0x80 else b'\0\0\0\0'
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(read(length)))
            if opcode == 8:
                self.wfile.write(b'\x88\x00')
                return
            if opcode in (1, 2):
                size = bytes([len(data)]) if len(data) < 126 else bytes([126]) + struct.pack('!H', len(data))
                self.wfile.write(bytes([0x80 | opcode]) + size + data)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(('0.0.0.0', ${SERVER_PORT}), Handler).serve_forever()
`;

export interface ForwardServer {
  readonly containerId: string;
  /** The container's address on its network. */
  readonly direct: Endpoint;
  /** The port the engine published on 127.0.0.1 at create time (a host port it chose). */
  readonly published: Endpoint;
  /** The engine's userland proxy for the published port, when it runs on this machine (its CPU time is read from /proc). */
  readonly proxyPid?: number;
}

/** The server in a container on gitiso's network, its port published on 127.0.0.1 as an agent's dev port would be. */
export async function startForwardServer(engine: Engine, image: string, name: string): Promise<ForwardServer> {
  await engine.removeContainer(name);
  await ensureNetwork(engine);
  const portKey = `${SERVER_PORT}/tcp`;
  const id = await engine.createContainer({
    name,
    Image: image,
    Cmd: ['python3', '-c', SERVER_SCRIPT],
    Labels: { [TEST_LABEL]: '1' },
    ExposedPorts: { [portKey]: {} },
    HostConfig: { NetworkMode: TEST_NETWORK, PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  await engine.startContainer(id);
  const info = await engine.inspectContainer(name);
  const ip = info?.NetworkSettings.Networks[TEST_NETWORK]?.IPAddress;
  const hostPort = Number(info?.NetworkSettings.Ports?.[portKey]?.find((binding) => binding.HostIp === '127.0.0.1')?.HostPort);
  if (!ip || !hostPort) {
    throw new Error(`container ${name} has no address on ${TEST_NETWORK} or no published port`);
  }
  const direct = { host: ip, port: SERVER_PORT };
  const published = { host: '127.0.0.1', port: hostPort };
  await waitUntilAnswering(direct, 15_000);
  await waitUntilAnswering(published, 15_000);
  const proxyPid = findDockerProxy(hostPort);
  return { containerId: id, direct, published, ...(proxyPid === undefined ? {} : { proxyPid }) };
}

/** docker-proxy's pid for a host port, when the engine runs here with its userland proxy. */
function findDockerProxy(hostPort: number): number | undefined {
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const argv = safeRead(`/proc/${entry}/cmdline`).split('\0');
    if (argv[0]?.endsWith('docker-proxy') && argv.includes('-host-port') && argv[argv.indexOf('-host-port') + 1] === String(hostPort)) {
      return Number(entry);
    }
  }
  return undefined;
}

/** A process's CPU time (user + system) in microseconds, from /proc/PID/stat (clock ticks of 10 ms). */
export function processCpuMicros(pid: number): number {
  const stat = safeRead(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime), counted after the command name's closing parenthesis.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
