import { Duplex } from 'node:stream';
import type { Engine, ExecSession } from './engine';
import { StreamDemux } from './streamDemux';

/** What an exec stream needs of the engine. */
export type ExecStreamEngine = Pick<Engine, 'openExec' | 'spawnDetached'>;

export interface ExecStreamSpec {
  readonly containerId: string;
  /** The program: an argument array, never a shell string. */
  readonly argv: readonly string[];
  /**
   * Whether the program passes the end of its stdin on and goes on writing
   * (a half-close). When it does not, ending this stream's writing ends the
   * program: a client that has said all it will is done with it.
   */
  readonly halfClose: boolean;
}

/**
 * The shell records its pid (the exec's process group: each exec gets a
 * session of its own) on stderr, then becomes the program with stderr
 * closed: what the program would print there is not the host's business.
 */
const PID_PREAMBLE = 'echo "$$" >&2; exec "$@" 2>/dev/null';
const MAX_PID_LINE = 32;

/**
 * A program in a container as one byte stream, over the engine's exec API:
 * what is written goes to its stdin, what it prints on stdout is read (no
 * TTY, so bytes pass as they are). Backpressure holds both ways; ending the
 * writing closes its stdin; the program ending ends the reading. Destroyed
 * before the program ended, the program's process group is killed: no exec
 * outlives its stream. Returned at once; the exec opens behind it.
 */
export function openExecStream(engine: ExecStreamEngine, spec: ExecStreamSpec): Duplex {
  return new ExecStream(engine, spec);
}

class ExecStream extends Duplex {
  private attached: Duplex | undefined;
  /** The engine ended the attach: the program has exited. */
  private exited = false;
  private pidLine: Buffer | undefined = Buffer.alloc(0);
  private pid: string | undefined;
  private readonly pidKnown: Promise<void>;
  private pidSettled: () => void = () => undefined;

  constructor(private readonly engine: ExecStreamEngine, private readonly spec: ExecStreamSpec) {
    super({ allowHalfOpen: true });
    this.pidKnown = new Promise((resolve) => (this.pidSettled = resolve));
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.engine
      .openExec(this.spec.containerId, { argv: ['sh', '-c', PID_PREAMBLE, 'gitiso-relay', ...this.spec.argv], stdin: true })
      .then(
        (session) => {
          this.attach(session);
          callback();
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
  }

  private attach(session: ExecSession): void {
    const attached = session.stream;
    this.attached = attached;
    const frames = new StreamDemux((chunk) => this.received('stdout', chunk), (chunk) => this.received('stderr', chunk));
    attached.on('data', (chunk: Buffer) => frames.push(chunk));
    attached.on('end', () => {
      this.exited = true;
      this.pidSettled();
      this.push(null);
    });
    attached.on('error', (error: Error) => this.destroy(error));
    attached.on('close', () => {
      this.pidSettled();
      if (!this.exited) {
        this.destroy();
      }
    });
  }

  private received(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (stream === 'stderr') {
      this.readPid(chunk);
      return;
    }
    if (this.destroyed) {
      return; // being stopped: the program's output goes nowhere
    }
    if (!this.push(chunk)) {
      this.attached?.pause();
    }
  }

  /** The preamble's first line on stderr; anything after it, or past the bound, is dropped unread. */
  private readPid(chunk: Buffer): void {
    if (this.pidLine === undefined) {
      return;
    }
    this.pidLine = Buffer.concat([this.pidLine, chunk]);
    const newline = this.pidLine.indexOf(10);
    if (newline < 0 && this.pidLine.length <= MAX_PID_LINE) {
      return;
    }
    const line = newline >= 0 ? this.pidLine.subarray(0, newline).toString().trim() : '';
    this.pid = /^\d{1,10}$/.test(line) ? line : undefined;
    this.pidLine = undefined;
    this.pidSettled();
  }

  override _read(): void {
    this.attached?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const attached = this.attached;
    if (!attached || attached.write(chunk)) {
      callback();
    } else {
      attached.once('drain', () => callback());
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
    if (this.spec.halfClose) {
      this.attached?.end();
    } else {
      process.nextTick(() => this.destroy());
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    callback(error);
    const attached = this.attached;
    if (!attached || this.exited) {
      attached?.destroy();
      return;
    }
    // Keep reading (and dropping) until the pid is known, at most a moment, then stop the program and the attach.
    attached.resume();
    attached.end();
    void Promise.race([this.pidKnown, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]).then(() => {
      attached.destroy();
      if (this.pid && !this.exited) {
        // The group first (the program's helpers too); a shell that made no group of its own still has its pid.
        void this.engine
          .spawnDetached(this.spec.containerId, ['sh', '-c', 'kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null', 'gitiso-kill', this.pid])
          .catch(() => undefined);
      }
    });
  }
}
