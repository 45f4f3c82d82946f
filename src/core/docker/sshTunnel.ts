import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../logger';

/** Where an SSH engine is: the ssh destination, and the engine's socket on that machine. */
export interface SshDestination {
  readonly host: string;
  readonly user?: string;
  readonly port?: number;
  /** The engine's socket on the remote machine. */
  readonly remoteSocket: string;
}

export const DEFAULT_REMOTE_SOCKET = '/var/run/docker.sock';
const READY_TIMEOUT_MS = 20_000;
const MAX_STDERR = 4096;

/** `ssh://user@host:port[/path/to/docker.sock]` → where to go; the path, when given, is the engine's socket there (rootless Docker). */
export function sshDestination(url: URL): SshDestination {
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    user: decodeURIComponent(url.username) || undefined,
    port: url.port ? Number(url.port) : undefined,
    remoteSocket: url.pathname && url.pathname !== '/' ? decodeURIComponent(url.pathname) : DEFAULT_REMOTE_SOCKET,
  };
}

/**
 * A remote engine reached with the system's own `ssh`, so the user's
 * ~/.ssh/config, keys, agent, known hosts and jump hosts apply as they do in
 * a terminal (and as the docker CLI uses them). One ssh process per engine, a
 * master connection: the engine's socket is forwarded to a socket in a
 * private folder (0700) here, and forwards to containers are added to the same
 * connection, so a request costs a channel, not a handshake.
 * Batch mode: ssh never prompts; an unknown host key or a missing key fails
 * with ssh's own message.
 */
export class SshTunnel {
  private readonly dir = mkdtempSync(join(tmpdir(), 'gitiso-ssh-'));
  private readonly engineSocket = join(this.dir, 'engine.sock');
  private readonly control = join(this.dir, 'control');
  private master: { process: ChildProcess; ready: Promise<string> } | undefined;
  private forwards = 0;
  /** The forwards open now (`local:address:port`): a master connection started again gets them again. */
  private readonly open = new Set<string>();
  private disposed = false;

  constructor(
    private readonly destination: SshDestination,
    private readonly options: { readonly configFile?: string; readonly log?: Logger; readonly command?: string } = {},
  ) {}

  /** Why the connection last failed or ended: the engine's errors say it. */
  lastError: Error | undefined;
  private lastStart = 0;

  /** Where the engine's socket is forwarded to (it exists while ssh runs). */
  get socketPath(): string {
    return this.engineSocket;
  }

  /** A request failed to reach the socket: ssh starts again (not more than once a second), so the next one can. */
  revive(): void {
    if (!this.disposed && !this.master && Date.now() - this.lastStart > 1000) {
      this.master = this.start();
    }
  }

  /** The local socket that reaches the engine's own; starts ssh when it is not running (again, after it ended). */
  socket(): Promise<string> {
    if (this.disposed) {
      return Promise.reject(new Error('the ssh connection was closed'));
    }
    this.master ??= this.start();
    return this.master.ready;
  }

  /** A local socket that reaches `address:port` as the engine's machine sees it (a container's bridge address); `close` ends it. */
  async forward(address: string, port: number): Promise<{ readonly path: string; close(): Promise<void> }> {
    await this.socket();
    const path = join(this.dir, `f${++this.forwards}.sock`);
    const spec = `${path}:${address}:${port}`;
    await this.controlCommand('forward', spec);
    this.open.add(spec);
    return {
      path,
      close: async () => {
        this.open.delete(spec);
        await this.controlCommand('cancel', spec).catch(() => undefined);
      },
    };
  }

  private start(): { process: ChildProcess; ready: Promise<string> } {
    this.lastStart = Date.now();
    rmSync(this.engineSocket, { force: true });
    const args = [
      ...this.commonArgs(),
      '-M', '-S', this.control, '-o', 'ControlPersist=no',
      '-N', '-T',
      '-o', 'ExitOnForwardFailure=yes',
      '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3',
      '-o', 'ConnectTimeout=15',
      '-o', 'StreamLocalBindUnlink=yes',
      '-L', `${this.engineSocket}:${this.destination.remoteSocket}`,
      '--', this.destination.host,
    ];
    const child = spawn(this.options.command ?? 'ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-MAX_STDERR);
    });
    const entry = { process: child, ready: Promise.resolve('') };
    entry.ready = new Promise<string>((resolve, reject) => {
      const started = Date.now();
      const ended = (why: string): void => {
        clearInterval(poll);
        if (this.master === entry) {
          this.master = undefined;
        }
        const said = stderr.trim() ? `: ${stderr.trim().replace(/\s+/g, ' ')}` : '';
        this.lastError = new Error(`ssh to ${this.destination.host} ${why}${said}; check that '${this.terminalCommand()}' works in a terminal (gitiso's ssh never prompts)`);
        reject(this.lastError);
      };
      const poll = setInterval(() => {
        if (existsSync(this.engineSocket)) {
          clearInterval(poll);
          this.lastError = undefined;
          resolve(this.engineSocket);
        } else if (Date.now() - started > READY_TIMEOUT_MS) {
          child.kill();
          ended(`did not connect within ${READY_TIMEOUT_MS / 1000} s`);
        }
      }, 25);
      child.on('error', (error) => ended(`could not start (${error.message}): is OpenSSH's client installed?`));
      child.on('exit', (code, signal) => {
        this.options.log?.info(`ssh to ${this.destination.host} ended (${signal ?? code})`);
        ended(`ended (${signal ?? `exit ${code}`})`);
      });
    });
    if (this.open.size > 0) {
      // The connection ended and was made again: the forwards open before it are added to the new one.
      entry.ready = entry.ready.then(async (path) => {
        for (const spec of this.open) {
          await this.controlCommand('forward', spec).catch((error: unknown) => this.options.log?.warn(`ssh to ${this.destination.host}: a forward could not be made again (${String(error)})`));
        }
        return path;
      });
    }
    // A failure is the caller's to report; the next call starts ssh again.
    entry.ready.catch(() => undefined);
    (this.options.log ?? silentLogger).info(`ssh to ${this.destination.host}: forwarding the engine's socket ${this.destination.remoteSocket}`);
    return entry;
  }

  /** Asks the master connection to add or drop a forward (`ssh -O`). */
  private controlCommand(operation: 'forward' | 'cancel', spec: string): Promise<void> {
    const args = [...this.commonArgs(), '-S', this.control, '-O', operation, '-L', spec, '--', this.destination.host];
    return new Promise((resolve, reject) => {
      execFile(this.options.command ?? 'ssh', args, { timeout: 10_000 }, (error, _stdout, stderr) =>
        error ? reject(new Error(`ssh -O ${operation} failed: ${String(stderr).trim() || error.message}`)) : resolve(),
      );
    });
  }

  /** What the user can run to see the same connection work (or not) by hand. */
  private terminalCommand(): string {
    const { host, user, port } = this.destination;
    return ['ssh', ...(this.options.configFile ? ['-F', this.options.configFile] : []), ...(port ? ['-p', String(port)] : []), `${user ? `${user}@` : ''}${host}`, 'docker', 'version'].join(' ');
  }

  private commonArgs(): string[] {
    const { port, user } = this.destination;
    return [
      ...(this.options.configFile ? ['-F', this.options.configFile] : []),
      '-o', 'BatchMode=yes',
      ...(port ? ['-p', String(port)] : []),
      ...(user ? ['-l', user] : []),
    ];
  }

  dispose(): void {
    this.disposed = true;
    this.master?.process.kill();
    this.master = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
