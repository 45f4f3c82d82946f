import { connect, createServer, type Server, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { ConnectionMux } from '../src/core/docker/connectionMux';
import { Engine } from '../src/core/docker/engine';
import { openExecStream } from '../src/core/docker/execStream';
import { muxArgv } from '../src/core/docker/muxPrograms';
import { PortForwarder } from '../src/core/ports/portForwarder';
import { RELAY_PROGRAMS, relayArgv, type RelayProgramName } from '../src/core/ports/relayPrograms';
import { RelayPool, SPARES_PER_FORWARD } from '../src/core/ports/warmRelays';

/**
 * The ways of relaying TCP on 127.0.0.1 the forwarder benchmark compares:
 * gitiso's PortForwarder as it is, and the alternatives it was chosen
 * against (kept here, so every run measures them side by side).
 */
export const RELAY_KINDS = ['pipe', 'pipeline', 'manual', 'gitiso', 'exec-bash', 'exec-python3', 'exec-perl', 'warm-bash', 'warm-python3', 'warm-perl', 'mux-python3'] as const;
export type RelayKind = (typeof RELAY_KINDS)[number];

export const RELAY_DESCRIPTIONS: Record<RelayKind, string> = {
  pipe: 'relay as it was (pipe both ways, close ends both)',
  pipeline: 'relay with stream.pipeline',
  manual: 'relay with data/write/drain, no half-close',
  gitiso: "gitiso's PortForwarder",
  'exec-bash': "gitiso's PortForwarder through the engine: an exec per connection, bash /dev/tcp relay",
  'exec-python3': "gitiso's PortForwarder through the engine: an exec per connection, python3 relay",
  'exec-perl': "gitiso's PortForwarder through the engine: an exec per connection, perl relay",
  'warm-bash': "gitiso's PortForwarder through the engine with warm relays (2 spares), bash /dev/tcp relay",
  'warm-python3': "gitiso's PortForwarder through the engine with warm relays (2 spares), python3 relay",
  'warm-perl': "gitiso's PortForwarder through the engine with warm relays (2 spares), perl relay",
  'mux-python3': "gitiso's PortForwarder through the engine, every connection over one exec (a connection mux), python3",
};

export interface Target {
  readonly host: string;
  readonly port: number;
  /** The server's container, for the relays through the engine (they reach 127.0.0.1:port inside it). */
  readonly containerId?: string;
}

export interface OpenRelay {
  readonly hostPort: number;
  close(): Promise<void>;
}

export async function openRelay(kind: RelayKind, target: Target): Promise<OpenRelay> {
  if (kind === 'gitiso') {
    const forwarder = await PortForwarder.open({ kind: 'tcp', host: target.host, port: target.port });
    return { hostPort: forwarder.hostPort, close: () => forwarder.close() };
  }
  if (kind === 'exec-bash' || kind === 'exec-python3' || kind === 'exec-perl') {
    return openExecRelay(kind.slice('exec-'.length) as RelayProgramName, target, 0);
  }
  if (kind === 'warm-bash' || kind === 'warm-python3' || kind === 'warm-perl') {
    return openExecRelay(kind.slice('warm-'.length) as RelayProgramName, target, SPARES_PER_FORWARD);
  }
  if (kind === 'mux-python3') {
    return openMuxRelay(target);
  }
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    RELAYS[kind](client, target);
  });
  const hostPort = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve((server.address() as { port: number }).port));
  });
  return { hostPort, close: () => closeServer(server, clients) };
}

/** gitiso's exec relay with the given program and spares (0: an exec started per connection), on the engine the bench uses (DOCKER_HOST, else the local socket). */
async function openExecRelay(name: RelayProgramName, target: Target, spares: number): Promise<OpenRelay> {
  const program = RELAY_PROGRAMS.find((candidate) => candidate.name === name);
  const containerId = target.containerId;
  if (!program || !containerId) {
    throw new Error(`exec relay ${name} needs a known program and the server's container`);
  }
  const engine = new Engine();
  const argv = relayArgv(program, target.port);
  const pool = new RelayPool(() => openExecStream(engine, { containerId, argv, halfClose: program.halfClose }), spares);
  const forwarder = await PortForwarder.open({ kind: 'exec', describe: name, open: () => pool.take(), close: () => pool.close() });
  return {
    hostPort: forwarder.hostPort,
    close: async () => {
      await forwarder.close();
      pool.close();
    },
  };
}

/** gitiso's forward through the engine where the container has python3: one exec, every connection a frame. */
async function openMuxRelay(target: Target): Promise<OpenRelay> {
  const containerId = target.containerId;
  if (!containerId) {
    throw new Error('the mux needs the server\'s container');
  }
  const engine = new Engine();
  const mux = new ConnectionMux({ name: 'the bench mux', stream: openExecStream(engine, { containerId, argv: muxArgv('connect', target.port, 'python3'), halfClose: false }), missingProgram: 'python3 is needed' });
  await mux.ready;
  const forwarder = await PortForwarder.open({ kind: 'exec', describe: 'mux', open: () => mux.connect(), close: () => mux.close() });
  return {
    hostPort: forwarder.hostPort,
    close: async () => {
      await forwarder.close();
      mux.close();
    },
  };
}

/** Each relay destroys its upstream when its client closes. */
function closeServer(server: Server, clients: ReadonlySet<Socket>): Promise<void> {
  for (const client of clients) {
    client.destroy();
  }
  return new Promise((resolve) => server.close(() => resolve()));
}

const RELAYS: Record<Exclude<RelayKind, 'gitiso' | `exec-${string}` | `warm-${string}` | `mux-${string}`>, (client: Socket, target: Target) => void> = {
  /** PortForwarder's relay before issue 13, as it was. */
  pipe(client, target) {
    const upstream = connect(target);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  },
  pipeline(client, target) {
    const upstream = connect(target);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
    };
    pipeline(client, upstream, done);
    pipeline(upstream, client, done);
  },
  manual(client, target) {
    const upstream = connect(target);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const copy = (from: Socket, to: Socket): void => {
      from.on('data', (chunk) => {
        if (!to.write(chunk)) {
          from.pause();
        }
      });
      to.on('drain', () => from.resume());
    };
    copy(client, upstream);
    copy(upstream, client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  },
};
