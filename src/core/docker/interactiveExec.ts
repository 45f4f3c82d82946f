import type { Duplex } from 'node:stream';
import { Emitter, type Disposable, type Event } from '../base/event';
import type { Engine, ExecSession } from './engine';

/** A fixed script (no interpolation) that prefers bash and falls back to sh. */
const SHELL = ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];

export interface InteractiveOptions {
  readonly workdir?: string;
  readonly columns?: number;
  readonly rows?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** What runs on the TTY (an argument array); a login shell when absent. */
  readonly command?: readonly string[];
}

/**
 * A shell in a container on a TTY, over the engine's exec API: what a terminal
 * needs (bytes in and out, resize, exit code) with no docker CLI on the host.
 */
export class InteractiveExec implements Disposable {
  private readonly data = new Emitter<string>();
  private readonly exit = new Emitter<number | undefined>();
  /** Output that came before anyone listened (the shell's first prompt can beat open()'s caller). */
  private held: string[] | undefined = [];
  private exitCode: { code: number | undefined } | undefined;

  /** The output; the first listener also gets what came before it subscribed. */
  readonly onData: Event<string> = (listener) => {
    const subscription = this.data.event(listener);
    const held = this.held;
    this.held = undefined;
    held?.forEach((text) => listener(text));
    return subscription;
  };

  /** The end; a listener that comes after it is told at once. */
  readonly onExit: Event<number | undefined> = (listener) => {
    if (this.exitCode) {
      listener(this.exitCode.code);
    }
    return this.exit.event(listener);
  };

  private constructor(private readonly exec: ExecSession, private readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (this.held) {
        this.held.push(text);
      } else {
        this.data.fire(text);
      }
    });
    let ended = false;
    const finish = (): void => {
      if (ended) {
        return;
      }
      ended = true;
      const settle = (code: number | undefined): void => {
        this.exitCode = { code };
        this.exit.fire(code);
      };
      void this.exec.status().then(
        (status) => settle(status.exitCode ?? undefined),
        () => settle(undefined),
      );
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  }

  static async open(engine: Pick<Engine, 'openExec'>, containerId: string, options: InteractiveOptions = {}): Promise<InteractiveExec> {
    const exec = await engine.openExec(containerId, {
      argv: options.command ?? SHELL,
      stdin: true,
      tty: true,
      workdir: options.workdir,
      env: { TERM: 'xterm-256color', ...options.env },
    });
    const session = new InteractiveExec(exec, exec.stream);
    if (options.columns && options.rows) {
      await session.resize(options.columns, options.rows);
    }
    return session;
  }

  write(text: string): void {
    this.stream.write(text);
  }

  async resize(columns: number, rows: number): Promise<void> {
    // The engine refuses a resize before the process runs or after it ended; neither matters.
    await this.exec.resize(columns, rows).catch(() => undefined);
  }

  dispose(): void {
    this.stream.destroy();
    this.data.dispose();
  }
}
