import type { Engine } from '../../src/core/docker/engine';
import { freePort } from './gitServer';
import { ensureNetwork, TEST_LABEL } from './testEnv';

/**
 * Relays TCP to the git server, holding its first connection back for two
 * minutes: a clone through it stays in its cloning phase as long as a test
 * needs, and the clones after it go through at once. Like the git server it
 * listens on the agents' network's gateway (host networking): agents reach it
 * as they reach a real remote, never as another container on their network.
 * argv: listen address, listen port, git server host, git server port.
 */
const RELAY = `
import socket, threading, time, sys
target = (sys.argv[3], int(sys.argv[4]))
seen = [0]
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass
def handle(client):
    seen[0] += 1
    if seen[0] == 1:
        time.sleep(120)
    upstream = socket.create_connection(target)
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    pipe(upstream, client)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], int(sys.argv[2])))
server.listen(16)
print('listening', flush=True)
while True:
    client, _ = server.accept()
    threading.Thread(target=handle, args=(client,), daemon=True).start()
`;

export class SlowRelay {
  private constructor(
    private readonly engine: Engine,
    private readonly containerId: string,
    readonly address: string,
  ) {}

  /** A relay to `gitAddress` (the git server's `host:port`). */
  static async start(engine: Engine, image: string, gitAddress: string): Promise<SlowRelay> {
    const gateway = await ensureNetwork(engine);
    const port = await freePort(gateway);
    const [gitHost = '', gitPort = '9418'] = gitAddress.split(':');
    const containerId = await engine.createContainer({
      Image: image,
      Cmd: ['python3', '-c', RELAY, gateway, String(port), gitHost, gitPort],
      Labels: { [TEST_LABEL]: 'slow-relay' },
      HostConfig: { Init: true, NetworkMode: 'host', AutoRemove: true },
    });
    await engine.startContainer(containerId);
    const relay = new SlowRelay(engine, containerId, `${gateway}:${port}`);
    // Listening, seen from /proc (a probe connection would be the one held back); any local address.
    const listening = `:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`;
    for (let attempt = 0; attempt < 50; attempt++) {
      if ((await engine.exec(containerId, ['grep', '-q', listening, '/proc/net/tcp'])).exitCode === 0) {
        return relay;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the relay did not start listening');
  }

  /** The git:// URL of `path` (`namespace/name.git` on the git server) through the relay. */
  url(path: string): string {
    return `git://${this.address}/${path}`;
  }

  async stop(): Promise<void> {
    await this.engine.removeContainer(this.containerId);
  }
}
