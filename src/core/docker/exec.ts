import { abortError, throwIfAborted, withTimeout } from '../base/abort';
import { EngineProtocolError, InvalidInputError } from '../errors';
import { BoundedOutput } from './boundedOutput';
import type { Engine, ExecSession } from './engine';

/** What running a command needs of the engine. */
export type ExecEngine = Pick<Engine, 'openExec' | 'demux' | 'spawnDetached'>;

export interface ExecOptions {
  readonly workdir?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly user?: string;
  /** Cancels the command: the stream is closed and the process is sent SIGTERM. */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** At most this many bytes of each stream are kept in the result (16 MiB by default); the callbacks still see all. */
  readonly maxOutputBytes?: number;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when a stream printed more than maxOutputBytes: its head is kept, the rest dropped. */
  readonly truncated?: boolean;
}

/**
 * For cancellable commands: the shell prints its pid on stderr's first line,
 * then replaces itself with the command, so the pid is the command's and can be
 * killed. The command's words stay separate arguments ("$@"); nothing is
 * interpolated into a shell string.
 */
const PID_PREAMBLE = 'echo "$$" >&2; exec "$@"';
const MAX_PID_LINE = 32;

/** Runs `argv` in a running container, with stdout and stderr kept apart. */
export async function execInContainer(engine: ExecEngine, containerId: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0 || argv.some((word) => typeof word !== 'string')) {
    throw new InvalidInputError('a command is a non-empty array of strings');
  }
  const what = `'${argv.join(' ')}'`;
  const signal = withTimeout(options.signal, options.timeoutMs);
  throwIfAborted(signal, what);
  const cancellable = signal !== undefined;

  const exec = await engine.openExec(containerId, {
    argv: cancellable ? ['sh', '-c', PID_PREAMBLE, 'gitiso-exec', ...argv] : argv,
    workdir: options.workdir,
    env: options.env,
    user: options.user,
  });
  const { stream } = exec;

  const stdout = new BoundedOutput(options.maxOutputBytes);
  const stderr = new BoundedOutput(options.maxOutputBytes);
  let pid: string | undefined;
  let pidLine = cancellable ? Buffer.alloc(0) : undefined;

  const onStderr = (chunk: Buffer): void => {
    if (pidLine !== undefined) {
      // Peel the pid line off before anything reaches the caller.
      pidLine = Buffer.concat([pidLine, chunk]);
      const newline = pidLine.indexOf(10);
      if (newline < 0 && pidLine.length <= MAX_PID_LINE) {
        return;
      }
      // A pid line is a few digits: anything else (no line, or a long one) is output.
      pid = newline >= 0 ? pidLine.subarray(0, newline).toString().trim() : undefined;
      chunk = newline >= 0 ? pidLine.subarray(newline + 1) : pidLine;
      pidLine = undefined;
      if (chunk.length === 0) {
        return;
      }
    }
    stderr.push(chunk);
    options.onStderr?.(chunk);
  };
  const onStdout = (chunk: Buffer): void => {
    stdout.push(chunk);
    options.onStdout?.(chunk);
  };
  engine.demux(stream, onStdout, onStderr);

  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      stream.destroy();
      if (pid && /^\d+$/.test(pid)) {
        // Best effort: the command may have ended already.
        void engine.spawnDetached(containerId, ['sh', '-c', 'kill -TERM "$1" 2>/dev/null', 'gitiso-kill', pid]).catch(() => undefined);
      }
      reject(abortError(signal as AbortSignal, what));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (error?: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        reject(error);
      } else {
        resolve();
      }
    };
    stream.on('end', () => done());
    stream.on('close', () => done());
    stream.on('error', (error: Error) => done(error));
  });

  return {
    exitCode: await exitCodeOf(exec),
    stdout: stdout.text(),
    stderr: stderr.text(),
    ...(stdout.truncated || stderr.truncated ? { truncated: true } : {}),
  };
}

/** The engine may take a moment after the stream ends to record the exit code. */
async function exitCodeOf(exec: ExecSession): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { running, exitCode } = await exec.status();
    if (!running && exitCode !== null) {
      return exitCode;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new EngineProtocolError('the engine did not report the exit code of a finished command: try again, or restart Docker if it keeps happening');
}
