import { connect, createServer, type Server, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { PortForwarder } from '../src/core/ports/portForwarder';

/**
 * The ways of relaying TCP on 127.0.0.1 the forwarder benchmark compares:
 * gitiso's PortForwarder as it is, and the alternatives it was chosen
 * against (kept here, so every run measures them side by side).
 */
export const RELAY_KINDS = ['pipe', 'pipeline', 'manual', 'gitiso'] as const;
export type RelayKind = (typeof RELAY_KINDS)[number];

export const RELAY_DESCRIPTIONS: Record<RelayKind, string> = {
  pipe: 'relay as it was (pipe both ways, close ends both)',
  pipeline: 'relay with stream.pipeline',
  manual: 'relay with data/write/drain, no half-close',
  gitiso: "gitiso's PortForwarder",
};

export interface Target {
  readonly host: string;
  readonly port: number;
}

export interface OpenRelay {
  readonly hostPort: number;
  close(): Promise<void>;
}

export async function openRelay(kind: RelayKind, target: Target): Promise<OpenRelay> {
  if (kind === 'gitiso') {
    const forwarder = await PortForwarder.open({ kind: 'tcp', ...target });
    return { hostPort: forwarder.hostPort, close: () => forwarder.close() };
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

/** Each relay destroys its upstream when its client closes. */
function closeServer(server: Server, clients: ReadonlySet<Socket>): Promise<void> {
  for (const client of clients) {
    client.destroy();
  }
  return new Promise((resolve) => server.close(() => resolve()));
}

const RELAYS: Record<Exclude<RelayKind, 'gitiso'>, (client: Socket, target: Target) => void> = {
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
