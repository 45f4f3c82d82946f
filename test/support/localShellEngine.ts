import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { ExecEngine } from '../../src/core/docker/exec';
import type { ExecSession, ExecSpec } from '../../src/core/docker/engine';

/**
 * An exec stream over a local process: writes go to its stdin; it ends, as an
 * engine's does, once both its stdout and stderr have closed (so a child that
 * outlives the process holds it open, as in a container).
 */
class ProcessStream extends Duplex {
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    super();
    let open = 2;
    const closed = (): void => {
      open -= 1;
      if (open === 0) {
        this.push(null);
      }
    };
    child.stdout.on('close', closed);
    child.stderr.on('close', closed);
    child.stdin.on('error', () => undefined); // EPIPE once the process is gone
    this.resume();
  }

  override _read(): void {
    // pushed from the process's streams
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.child.stdin.write(chunk, () => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    callback(error);
  }
}

/**
 * What the exec channel needs of an engine, over processes on this machine:
 * the channel's own shell script runs for real, without Docker, so its framing,
 * cancellation and failures can be tested in unit tests. The container id is ignored.
 */
export class LocalShellEngine implements ExecEngine {
  /** The processes opened as execs (the channels' shells), newest last. */
  readonly processes: ChildProcessWithoutNullStreams[] = [];

  async openExec(_containerId: string, spec: ExecSpec): Promise<ExecSession> {
    const [command = 'sh', ...args] = spec.argv;
    const child = spawn(command, args, { stdio: 'pipe' });
    this.processes.push(child);
    const stream = new ProcessStream(child);
    return {
      stream,
      status: async () => ({ running: child.exitCode === null && child.signalCode === null, exitCode: child.exitCode }),
      resize: async () => undefined,
    };
  }

  demux(stream: NodeJS.ReadableStream, onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void): void {
    const { child } = stream as unknown as ProcessStream;
    child.stdout.on('data', onStdout);
    child.stderr.on('data', onStderr);
  }

  async spawnDetached(_containerId: string, argv: readonly string[]): Promise<void> {
    const [command = 'sh', ...args] = argv;
    spawn(command, args, { stdio: 'ignore', detached: true }).unref();
  }
}
