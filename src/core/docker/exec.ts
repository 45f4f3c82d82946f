import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { abortError, throwIfAborted, withTimeout } from '../base/abort';
import { InvalidInputError } from '../errors';

export interface ExecOptions {
  readonly workdir?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly user?: string;
  /** Cancels the command: the stream is closed and the process is sent SIGTERM. */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * For cancellable commands: the shell prints its pid on stderr's first line,
 * then replaces itself with the command, so the pid is the command's and can be
 * killed. The command's words stay separate arguments ("$@"); nothing is
 * interpolated into a shell string.
 */
const PID_PREAMBLE = 'echo "$$" >&2; exec "$@"';

/** Runs `argv` in a running container, with stdout and stderr kept apart. */
export async function execInContainer(docker: Docker, containerId: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0 || argv.some((word) => typeof word !== 'string')) {
    throw new InvalidInputError('a command is a non-empty array of strings');
  }
  const what = `'${argv.join(' ')}'`;
  const signal = withTimeout(options.signal, options.timeoutMs);
  throwIfAborted(signal, what);
  const cancellable = signal !== undefined;

  const container = docker.getContainer(containerId);
  const exec = await container.exec({
    Cmd: cancellable ? ['sh', '-c', PID_PREAMBLE, 'gitiso-exec', ...argv] : [...argv],
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    WorkingDir: options.workdir,
    Env: options.env ? Object.entries(options.env).map(([k, v]) => `${k}=${v}`) : undefined,
    User: options.user,
  });
  const stream = await exec.start({ hijack: true, stdin: false });

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let pid: string | undefined;
  let pidLine = cancellable ? Buffer.alloc(0) : undefined;

  const onStderr = (chunk: Buffer): void => {
    if (pidLine !== undefined) {
      // Peel the pid line off before anything reaches the caller.
      pidLine = Buffer.concat([pidLine, chunk]);
      const newline = pidLine.indexOf(10);
      if (newline < 0) {
        return;
      }
      pid = pidLine.subarray(0, newline).toString().trim();
      chunk = pidLine.subarray(newline + 1);
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
  docker.modem.demuxStream(stream, sink(onStdout), sink(onStderr));

  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      stream.destroy();
      if (pid && /^\d+$/.test(pid)) {
        // Best effort: the command may have ended already.
        void container
          .exec({ Cmd: ['sh', '-c', 'kill -TERM "$1" 2>/dev/null', 'gitiso-kill', pid], AttachStdout: false, AttachStderr: false })
          .then((killer) => killer.start({ Detach: true }))
          // The engine answers a detached start with an empty body; read it so the socket is freed.
          .then((response) => response.resume())
          .catch(() => undefined);
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
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
}

function sink(write: (chunk: Buffer) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      write(chunk);
      callback();
    },
  });
}

/** The engine may take a moment after the stream ends to record the exit code. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) {
      return info.ExitCode;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the engine did not report the exit code of a finished command');
}
