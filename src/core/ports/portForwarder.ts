import { createServer, connect, type Server, type Socket } from 'node:net';
import { NoFreePortError } from '../errors';

/** Where a forward sends connections: for now the container's address; a relay through the engine's exec stream can take this place for engines the host cannot reach. */
export interface ForwardTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * A plain TCP relay on 127.0.0.1 (HTTP, WebSockets for hot reload, anything):
 * each accepted connection is piped to the target and back. Only loopback:
 * nothing of an agent is exposed beyond this machine.
 */
export class PortForwarder {
  private readonly sockets = new Set<Socket>();

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
      const server = createServer();
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

  private relay(client: Socket): void {
    const upstream = connect({ host: this.current.host, port: this.current.port });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    // One side failing or closing ends the other: no half-open relays left behind.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
