import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { NoFreePortError } from '../errors';
import { openTarget, type ForwardTarget } from './forwardTarget';

export type { ForwardTarget } from './forwardTarget';

/**
 * A relay on 127.0.0.1 for TCP (HTTP, WebSockets for hot reload, anything):
 * each accepted connection is piped to the target (forwardTarget.ts) and back. Only loopback:
 * nothing of an agent is exposed beyond this machine.
 */
export class PortForwarder {
  private readonly streams = new Set<Duplex>();

  private constructor(private readonly server: Server, readonly hostPort: number, private current: ForwardTarget) {
    server.on('connection', (client) => this.relay(client));
  }

  /**
   * Listens on 127.0.0.1: on `preferred` when it is free (the container's own
   * port number, as VS Code does), else on a free port the system picks. A
   * port something else holds is never taken.
   */
  static async open(target: ForwardTarget, preferred?: number): Promise<PortForwarder> {
    for (const port of preferred ? [preferred, 0] : [0]) {
      // Half-open: a client that has sent all it will (a FIN) still gets its answer.
      const server = createServer({ allowHalfOpen: true });
      const bound = await new Promise<number | undefined>((resolve) => {
        server.once('error', () => resolve(undefined));
        server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : undefined);
        });
      });
      if (bound !== undefined) {
        return new PortForwarder(server, bound, target);
      }
      server.close();
    }
    throw new NoFreePortError();
  }

  get target(): ForwardTarget {
    return this.current;
  }

  /** Sends new connections elsewhere (the agent's container came back with another address); open ones stay as they are. */
  retarget(target: ForwardTarget): void {
    this.current = target;
  }

  get url(): string {
    return `http://127.0.0.1:${this.hostPort}`;
  }

  /**
   * Copies each side's bytes to the other as they come (a write per read,
   * Nagle off: a request's bytes leave at once), pausing a side whose peer
   * cannot take more. A side that ends its writing (half-close) has that
   * passed on, so a reply still in flight arrives; a side that closes has
   * its peer finish what it was given, then close; an error ends both at
   * once. No relay outlives its connections. The target's stream may be a
   * socket or any duplex (an exec through the engine): the same holds.
   */
  private relay(client: Socket): void {
    const upstream = openTarget(this.current);
    client.setNoDelay(true);
    for (const [socket, peer] of [[client, upstream], [upstream, client]] as const) {
      this.streams.add(socket);
      socket.on('error', () => {
        socket.destroy();
        peer.destroy();
      });
      socket.on('close', () => {
        this.streams.delete(socket);
        if (!peer.destroyed) {
          peer.end(() => peer.destroy());
        }
      });
      copy(socket, peer);
    }
  }

  close(): Promise<void> {
    for (const stream of this.streams) {
      stream.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One direction of a relay: what `from` sends goes to `to`, as fast as `to` takes it. */
function copy(from: Duplex, to: Duplex): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) {
      from.pause();
    }
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}
