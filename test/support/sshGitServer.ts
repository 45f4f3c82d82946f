import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/core/docker/engine';
import { branchCommitOf, commitToBareRepo, freePort, seedBareRepo } from './gitServer';
import { ensureNetwork, makeTempDir, removeDir, TEST_LABEL } from './testEnv';

/**
 * The server's start: a host key of its own, then sshd in the foreground,
 * keys only, root allowed by key, on the gateway only. `-f /dev/null`: no
 * Debian defaults (PAM, password logins) come in. $1 address, $2 port.
 */
const SSHD_SCRIPT = `set -e
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -C gitiso-test-host -f /run/gitiso-host-key
exec /usr/sbin/sshd -D -e -f /dev/null -h /run/gitiso-host-key -p "$2" -o ListenAddress="$1" \\
  -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \\
  -o AuthorizedKeysFile=/etc/gitiso-sshd/authorized_keys -o StrictModes=no -o UsePAM=no`;

/**
 * A real git server over SSH for the tests: openssh-server in a container,
 * root's login by the one public key the test gives (its private half stays
 * in the test's ssh-agent), repositories under /srv/git. Like GitServer it
 * runs on the host's network and listens on the agents' network's gateway
 * only, on a port of its own (so URLs carry it, or the ssh command does).
 */
export class SshGitServer {
  readonly namespace = `gitiso-test-${randomBytes(4).toString('hex')}`;

  private constructor(
    private readonly engine: Engine,
    private readonly dirs: { readonly root: string; readonly conf: string },
    private readonly run: { readonly containerId: string; readonly gateway: string; readonly port: number },
    /** The server's host public key (`ssh-ed25519 AAAA…`), read once it listens. */
    private hostKey = '',
  ) {}

  /** `authorizedKey`: the public key line root's login accepts. */
  static async start(engine: Engine, image: string, authorizedKey: string): Promise<SshGitServer> {
    const gateway = await ensureNetwork(engine);
    const port = await freePort(gateway);
    const dirs = { root: makeTempDir('ssh-git-root'), conf: makeTempDir('ssh-git-conf') };
    writeFileSync(join(dirs.conf, 'authorized_keys'), `${authorizedKey.trim()}\n`);
    const containerId = await engine.createContainer({
      Image: image,
      Cmd: ['sh', '-c', SSHD_SCRIPT, 'gitiso-sshd', gateway, String(port)],
      Labels: { [TEST_LABEL]: 'ssh-git-server' },
      HostConfig: { Init: true, NetworkMode: 'host', Binds: [`${dirs.root}:/srv/git`, `${dirs.conf}:/etc/gitiso-sshd:ro`] },
    });
    const server = new SshGitServer(engine, dirs, { containerId, gateway, port });
    try {
      await engine.startContainer(containerId);
      await server.waitUntilListening();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get containerId(): string {
    return this.run.containerId;
  }

  get port(): number {
    return this.run.port;
  }

  /** The line a known_hosts file needs for this server. */
  knownHostsLine(): string {
    return `[${this.run.gateway}]:${this.run.port} ${this.hostKey}`;
  }

  /** `ssh://root@<gateway>:<port>/srv/git/…`. */
  url(name: string): string {
    return `ssh://root@${this.run.gateway}:${this.run.port}${this.serverPath(name)}`;
  }

  /** scp-like `root@<gateway>:/srv/git/…`: no port in it, so the ssh command must give it (`-p`). */
  scpUrl(name: string): string {
    return `root@${this.run.gateway}:${this.serverPath(name)}`;
  }

  barePath(name: string): string {
    return join(this.dirs.root, this.namespace, `${name}.git`);
  }

  createRepo(name: string, files: Record<string, string | Buffer> = {}): { main: string; feature: string } {
    return seedBareRepo(this.barePath(name), files);
  }

  /** A new commit on `branch`, as another user's push would make it. */
  commit(name: string, change: { readonly branch: string; readonly files: Record<string, string>; readonly message: string }): string {
    return commitToBareRepo(this.barePath(name), change);
  }

  branchCommit(name: string, branch: string): string | undefined {
    return branchCommitOf(this.barePath(name), branch);
  }

  async stop(): Promise<void> {
    await this.engine.removeContainer(this.run.containerId);
    removeDir(this.dirs.root);
    removeDir(this.dirs.conf);
  }

  private serverPath(name: string): string {
    return `/srv/git/${this.namespace}/${name}.git`;
  }

  /** Until sshd greets with its banner, then reads the host key it made. */
  private async waitUntilListening(): Promise<void> {
    let last = '';
    for (let attempt = 0; attempt < 100; attempt++) {
      last = await banner(this.run.gateway, this.run.port).catch((error: unknown) => String(error));
      if (last.startsWith('SSH-2.0-')) {
        const key = await this.engine.exec(this.run.containerId, ['cat', '/run/gitiso-host-key.pub']);
        this.hostKey = key.stdout.trim().split(' ').slice(0, 2).join(' ');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const info = await this.engine.inspectContainer(this.run.containerId);
    throw new Error(`sshd did not answer (${last}; container ${info?.State.Status})`);
  }
}

/** The first line a server sends on a new connection. */
function banner(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000, () => socket.destroy(new Error('no banner')));
    socket.once('error', reject);
    socket.once('data', (chunk) => {
      resolve(chunk.toString().split('\n')[0] ?? '');
      socket.destroy();
    });
  });
}
