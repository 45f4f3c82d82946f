import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { abortError, throwIfAborted, withTimeout } from '../base/abort';
import { ChannelClosedError } from '../errors';
import type { ExecEngine, ExecOptions, ExecResult } from './exec';

/**
 * A long-lived shell in the container that runs commands on request, so a
 * command costs what the command costs instead of a new exec (about 100 ms of
 * engine round trips). Requests are one line each: the sequence number, then
 * every word octal-escaped for printf %b (so no word is ever parsed by the
 * shell: globbing is off and the words only become "$@"). Plain words need
 * no decoding, which spares a subshell: forks cost milliseconds here. The command runs in
 * the background so its pid can be announced for cancellation; its end is
 * marked on both streams with a NUL-led marker that carries a per-channel nonce.
 * Where setsid exists the command leads its own process group, so cancelling
 * also ends what it started (git's hooks, aliases, helpers).
 */
const CHANNEL_SCRIPT = `set -f
nonce="$1"
own_group=$(command -v setsid || true)
while IFS=' ' read -r seq cwd rest; do
  set --
  for word in $rest; do
    case "$word" in
      *\\\\*) value=$(printf '%bx' "$word"); set -- "$@" "\${value%x}" ;;
      *) set -- "$@" "$word" ;;
    esac
  done
  case "$cwd" in
    *\\\\*) dir=$(printf '%bx' "$cwd"); dir="\${dir%x}" ;;
    *) dir="$cwd" ;;
  esac
  if [ -n "$own_group" ]; then
    (cd "$dir" && exec setsid "$@") </dev/null &
  else
    (cd "$dir" && exec "$@") </dev/null &
  fi
  pid=$!
  printf '\\000%s-pid-%s:%s\\n' "$nonce" "$seq" "$pid" >&2
  wait "$pid"
  code=$?
  printf '\\000%s-end-%s:%s\\n' "$nonce" "$seq" "$code"
  printf '\\000%s-end-%s:%s\\n' "$nonce" "$seq" "$code" >&2
done`;

/** Escapes a word for printf %b: plain characters stay, every other byte becomes \\0NNN. */
export function escapeWord(word: string): string {
  let out = '';
  for (const byte of Buffer.from(word, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9._\-/=:,@+]/.test(char) ? char : `\\0${byte.toString(8).padStart(3, '0')}`;
  }
  // An empty word: \c ends printf's output at once, leaving nothing.
  return out || '\\c';
}

interface Pending {
  readonly seq: number;
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
  stdoutDone: boolean;
  stderrDone: boolean;
  code?: number;
  pid?: string;
  readonly options: ExecOptions;
  resolve(result: ExecResult): void;
  reject(error: Error): void;
}

export class ExecChannel {
  private seq = 0;
  private current: Pending | undefined;
  private readonly queue: (() => void)[] = [];
  private outTail = Buffer.alloc(0);
  private errTail = Buffer.alloc(0);
  private closed = false;
  /** What starts every marker line, as bytes (searched for in every chunk). */
  private readonly marker: Buffer;

  private constructor(
    private readonly engine: ExecEngine,
    private readonly containerId: string,
    private readonly stream: Duplex,
    private readonly nonce: string,
  ) {
    this.marker = Buffer.from(`\0${nonce}-`);
    engine.demux(stream, (chunk) => this.onData('stdout', chunk), (chunk) => this.onData('stderr', chunk));
    const close = (): void => {
      this.closed = true;
      this.current?.reject(new ChannelClosedError());
      this.current = undefined;
    };
    stream.on('end', close);
    stream.on('close', close);
    stream.on('error', close);
    this.holdProcess(false);
  }

  /** An idle channel must not keep a CLI or test process alive; a busy one must. */
  private holdProcess(hold: boolean): void {
    const socket = this.stream as Partial<Socket>;
    if (hold) {
      socket.ref?.();
    } else {
      socket.unref?.();
    }
  }

  static async open(engine: ExecEngine, containerId: string): Promise<ExecChannel> {
    const nonce = randomBytes(6).toString('hex');
    const { stream } = await engine.openExec(containerId, { argv: ['sh', '-c', CHANNEL_SCRIPT, 'gitiso-channel', nonce], stdin: true });
    // Requests are small writes: do not let Nagle hold them back.
    (stream as Partial<Socket>).setNoDelay?.(true);
    return new ExecChannel(engine, containerId, stream, nonce);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Runs one command; commands on one channel run one after another. */
  run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const start = (): void => {
        if (this.closed) {
          reject(new ChannelClosedError());
          this.next();
          return;
        }
        const what = `'${argv.join(' ')}'`;
        const signal = withTimeout(options.signal, options.timeoutMs);
        try {
          throwIfAborted(signal, what);
        } catch (error) {
          reject(error as Error);
          this.next();
          return;
        }
        const seq = ++this.seq;
        this.holdProcess(true);
        const onAbort = (): void => {
          const pid = this.current?.seq === seq ? this.current.pid : undefined;
          if (pid) {
            void this.kill(pid);
          }
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const finish = (): void => {
          signal?.removeEventListener('abort', onAbort);
          this.current = undefined;
          this.next();
        };
        this.current = {
          seq,
          stdout: [],
          stderr: [],
          stdoutDone: false,
          stderrDone: false,
          options,
          resolve: (result) => {
            finish();
            if (signal?.aborted) {
              reject(abortError(signal, what));
            } else {
              resolve(result);
            }
          },
          reject: (error) => {
            finish();
            reject(error);
          },
        };
        const line = [String(seq), escapeWord(options.workdir ?? '/'), ...argv.map(escapeWord)].join(' ');
        this.stream.write(`${line}\n`);
      };
      if (this.current || this.queue.length > 0) {
        this.queue.push(start);
      } else {
        start();
      }
    });
  }

  close(): void {
    this.closed = true;
    this.stream.destroy();
  }

  private next(): void {
    const start = this.queue.shift();
    if (start) {
      start();
    } else {
      this.holdProcess(false);
    }
  }

  private async kill(pid: string): Promise<void> {
    try {
      await this.engine.spawnDetached(this.containerId, ['sh', '-c', 'kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null', 'gitiso-kill', pid]);
    } catch {
      // the command may have ended already
    }
  }

  private onData(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    // Hot path (every command's output passes here): no copy when nothing was held back.
    const tail = stream === 'stdout' ? this.outTail : this.errTail;
    let buffer = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
    const pending = this.current;
    for (;;) {
      const marker = buffer.indexOf(this.marker);
      if (marker < 0) {
        break;
      }
      const newline = buffer.indexOf(10, marker);
      if (newline < 0) {
        break; // the marker's end has not arrived yet
      }
      this.deliver(stream, buffer.subarray(0, marker));
      const text = buffer.subarray(marker + 1 + this.nonce.length + 1, newline).toString();
      buffer = buffer.subarray(newline + 1);
      const match = /^(pid|end)-(\d+):(\d+)$/.exec(text);
      if (!match || !pending || Number(match[2]) !== pending.seq) {
        continue;
      }
      if (match[1] === 'pid') {
        pending.pid = match[3];
      } else {
        pending.code = Number(match[3]);
        if (stream === 'stdout') {
          pending.stdoutDone = true;
        } else {
          pending.stderrDone = true;
        }
      }
    }
    // Hold back what may be the start of a marker; pass on the rest.
    const held = buffer.lastIndexOf(0);
    const keepFrom = held >= 0 && buffer.length - held < this.nonce.length + 40 ? held : buffer.length;
    this.deliver(stream, buffer.subarray(0, keepFrom));
    const rest = keepFrom < buffer.length ? Buffer.from(buffer.subarray(keepFrom)) : EMPTY;
    if (stream === 'stdout') {
      this.outTail = rest;
    } else {
      this.errTail = rest;
    }
    if (pending && pending.stdoutDone && pending.stderrDone) {
      pending.resolve({
        exitCode: pending.code ?? 1,
        stdout: Buffer.concat(pending.stdout).toString('utf8'),
        stderr: Buffer.concat(pending.stderr).toString('utf8'),
      });
    }
  }

  private deliver(stream: 'stdout' | 'stderr', bytes: Buffer): void {
    const pending = this.current;
    if (!pending || bytes.length === 0 || (stream === 'stdout' ? pending.stdoutDone : pending.stderrDone)) {
      return;
    }
    const copy = Buffer.from(bytes);
    (stream === 'stdout' ? pending.stdout : pending.stderr).push(copy);
    (stream === 'stdout' ? pending.options.onStdout : pending.options.onStderr)?.(copy);
  }
}

const EMPTY = Buffer.alloc(0);
