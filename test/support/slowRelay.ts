import type { Engine } from '../../src/core/docker/engine';
import { TEST_LABEL, TEST_NETWORK } from './testEnv';

const PORT = 9500;

/**
 * Relays TCP to the git server, holding its first connection back for two
 * minutes: a clone through it stays in its cloning phase as long as a test
 * needs, and the clones after it go through at once.
 */
const RELAY = `
import socket, threading, time, sys
target = (sys.argv[1], 9418)
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
server.bind(('0.0.0.0', ${PORT}))
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

  /** A relay on the test network to `gitAddress` (the git server's address). */
  static async start(engine: Engine, image: string, gitAddress: string): Promise<SlowRelay> {
    const containerId = await engine.createContainer({
      Image: image,
      Cmd: ['python3', '-c', RELAY, gitAddress],
      Labels: { [TEST_LABEL]: 'slow-relay' },
      HostConfig: { Init: true, NetworkMode: TEST_NETWORK, AutoRemove: true },
    });
    await engine.startContainer(containerId);
    const info = await engine.inspectContainer(containerId);
    const address = info?.NetworkSettings.Networks[TEST_NETWORK]?.IPAddress;
    if (!address) {
      throw new Error('the relay has no address on the test network');
    }
    const relay = new SlowRelay(engine, containerId, address);
    // Listening, seen from /proc (a probe connection would be the one held back).
    const listening = `:${PORT.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`;
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
    return `git://${this.address}:${PORT}/${path}`;
  }

  async stop(): Promise<void> {
    await this.engine.removeContainer(this.containerId);
  }
}
