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
/** What the session prints once it runs. */
const SESSION_MARK = 'gitiso-ssh-session';
/**
 * What the master connection's session runs on the remote: it waits on its
 * input, which stays open as long as ssh runs. The session is there for its
 * terminal: OpenSSH turns Nagle's algorithm off (TCP_NODELAY) on both ends only
 * for a session with a terminal, and without it every request/response over
 * the forwarded socket waits for TCP's delayed ACK (15 ms a round trip
 * against 0.8 ms, measured through this tunnel). In `sh` whatever the login
 * shell (fish, csh); one that cannot run it (cmd, PowerShell) ends the session
 * before the mark, and the connection goes on without one.
 */
const SESSION_COMMAND = `exec sh -c 'echo ${SESSION_MARK}; exec cat >/dev/null'`;
/** How long a connection whose socket is forwarded waits for its session to say it runs. */
const SESSION_GRACE_MS = 3_000;
/** ssh's own exit status for its errors (connection, authentication); any other is the remote command's. */
const SSH_ERROR_STATUS = 255;
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
  /** Set when the remote ended the master's session at once (a forced command, a shell that refuses): forward without one. */
  private sessionless = false;
  /** Whether the current master's session said it runs. */
  private sessionRuns = false;

  constructor(
    private readonly destination: SshDestination,
    private readonly options: { readonly configFile?: string; readonly log?: Logger; readonly command?: string } = {},
  ) {}

  /** Why the connection last failed or ended: the engine's errors say it. */
  lastError: Error | undefined;
  private lastStart = 0;

  /** How the connection carries the forwards: a session with a terminal that said it runs (no Nagle delay), forwards only (the remote refused the session), or neither yet. */
  get carries(): 'session' | 'forwards only' | 'not known' {
    return this.sessionless ? 'forwards only' : this.sessionRuns ? 'session' : 'not known';
  }

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
    const session = !this.sessionless;
    const args = [
      ...this.commonArgs(),
      '-M', '-S', this.control, '-o', 'ControlPersist=no',
      // A session with a terminal (see SESSION_COMMAND), no escape character; or forwards only.
      ...(session ? ['-tt', '-e', 'none'] : ['-N', '-T']),
      '-o', 'ExitOnForwardFailure=yes',
      '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3',
      '-o', 'ConnectTimeout=15',
      '-o', 'StreamLocalBindUnlink=yes',
      '-L', `${this.engineSocket}:${this.destination.remoteSocket}`,
      '--', this.destination.host,
      ...(session ? [SESSION_COMMAND] : []),
    ];
    // The session's input is a pipe nobody writes to and that closes only with ssh, so its command waits.
    const child = spawn(this.options.command ?? 'ssh', args, { stdio: [session ? 'pipe' : 'ignore', session ? 'pipe' : 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-MAX_STDERR);
    });
    let sessionStarted = !session;
    this.sessionRuns = false;
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString('utf8')).slice(-2 * SESSION_MARK.length);
      sessionStarted ||= stdout.includes(SESSION_MARK);
      this.sessionRuns = session && sessionStarted;
    });
    const entry = { process: child, ready: Promise.resolve('') };
    entry.ready = new Promise<string>((resolve, reject) => {
      const started = Date.now();
      let socketAt: number | undefined;
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
          socketAt ??= Date.now();
          // Ready when the session runs too (or says nothing of itself in time: a remote that runs its own command there).
          if (sessionStarted || Date.now() - socketAt > SESSION_GRACE_MS) {
            clearInterval(poll);
            this.lastError = undefined;
            resolve(this.engineSocket);
          }
        } else if (Date.now() - started > READY_TIMEOUT_MS) {
          child.kill();
          ended(`did not connect within ${READY_TIMEOUT_MS / 1000} s`);
        }
      }, 25);
      child.on('error', (error) => ended(`could not start (${error.message}): is OpenSSH's client installed?`));
      child.on('exit', (code, signal) => {
        this.options.log?.info(`ssh to ${this.destination.host} ended (${signal ?? code})`);
        // ssh connected, and the remote refused the session's terminal (ssh's words, its exit status then is its own) or ended the session.
        const refused = /PTY allocation request failed/.test(stderr) || (code !== null && code !== SSH_ERROR_STATUS);
        if (session && refused && !this.disposed) {
          // A forced command, no-pty or `restrict` in authorized_keys, a shell that refuses: forward without a session from now on.
          this.sessionless = true;
          this.options.log?.warn(`ssh to ${this.destination.host}: the remote refused or ended the session (exit ${code}${stderr.trim() ? `: ${stderr.trim().replace(/\s+/g, ' ')}` : ''}); forwarding without one, where each round trip waits for TCP's delayed ACK`);
          if (!sessionStarted) {
            // Before anyone used this connection: the same callers get the one made without a session.
            clearInterval(poll);
            if (this.master === entry) {
              this.master = undefined;
            }
            resolve(this.socket());
            return;
          }
        }
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
