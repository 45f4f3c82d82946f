import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { abortError, withTimeout } from '../base/abort';
import { ChannelClosedError, OutcomeUnknownError } from '../errors';
import { BoundedOutput } from './boundedOutput';
import type { ExecEngine, ExecOptions, ExecResult } from './exec';
import { MarkerFraming } from './markerFraming';

/**
 * A long-lived shell in the container that runs commands on request, so a
 * command costs what the command costs instead of a new exec (about 100 ms of
 * engine round trips). Requests are one line each: a fresh nonce, then
 * every word octal-escaped for printf %b (so no word is ever parsed by the
 * shell: globbing is off and the words only become "$@"). Plain words need
 * no decoding, which spares a subshell: forks cost milliseconds here. The command runs in
 * the background so its pid can be announced for cancellation; its end is
 * marked on both streams with a NUL-led line that carries the request's nonce.
 * The nonce only ever travels on stdin and lives in the shell's variables:
 * never in an argv or environment that the agent's processes can read in /proc,
 * so a command cannot forge its own end or exit code. Where setsid exists the
 * command leads its own process group, so cancelling also ends what it
 * started (git's hooks, aliases, helpers).
 */
const CHANNEL_SCRIPT = `set -f
own_group=$(command -v setsid || true)
while IFS=' ' read -r nonce cwd rest; do
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
  printf '\\000%s:pid:%s\\n' "$nonce" "$pid" >&2
  wait "$pid"
  code=$?
  printf '\\000%s:end:%s\\n' "$nonce" "$code"
  printf '\\000%s:end:%s\\n' "$nonce" "$code" >&2
done`;

/** How long a cancelled command has after TERM before KILL, and after KILL before the channel is given up. */
const KILL_GRACE_MS = 1_000;

/** The bytes a word may hold as they are: none means anything to the shell or to printf %b. */
const PLAIN_WORD = /^[A-Za-z0-9._\-/=:,@+]+$/;
/** Each byte as it goes in a request: itself when plain, else \0NNN (built once: every request's words pass here). */
const ESCAPED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  const char = String.fromCharCode(byte);
  return PLAIN_WORD.test(char) ? char : `\\0${byte.toString(8).padStart(3, '0')}`;
});

/** Escapes a word for printf %b: plain characters stay, every other byte becomes \\0NNN. */
export function escapeWord(word: string): string {
  if (PLAIN_WORD.test(word)) {
    return word; // most words (paths, git's arguments): nothing to escape
  }
  let out = '';
  for (const byte of Buffer.from(word, 'utf8')) {
    out += ESCAPED_BYTE[byte] as string;
  }
  // An empty word: \c ends printf's output at once, leaving nothing.
  return out || '\\c';
}

/** A nonce's bytes; its hex is the marker's secret. */
const NONCE_BYTES = 16;
/** How many nonces one draw of random bytes serves: a call into the generator per command cost more than the rest of a probe's framing. */
const NONCES_PER_DRAW = 256;
let nonceBytes = Buffer.alloc(0);
let nonceAt = 0;

/** A fresh secret per command, never used twice: the next unused bytes of the last draw. */
function freshNonce(): string {
  if (nonceAt + NONCE_BYTES > nonceBytes.length) {
    nonceBytes = randomBytes(NONCE_BYTES * NONCES_PER_DRAW);
    nonceAt = 0;
  }
  const nonce = nonceBytes.toString('hex', nonceAt, nonceAt + NONCE_BYTES);
  nonceBytes.fill(0, nonceAt, nonceAt + NONCE_BYTES); // not kept in memory past its use
  nonceAt += NONCE_BYTES;
  return nonce;
}

/** A command as messages name it: its words, cut short. */
function describe(argv: readonly string[]): string {
  const words = argv.join(' ');
  return `'${words.length > 80 ? `${words.slice(0, 80)}…` : words}'`;
}

type StreamName = 'stdout' | 'stderr';

interface Request {
  readonly argv: readonly string[];
  readonly options: ExecOptions;
  readonly what: string;
  readonly signal: AbortSignal | undefined;
  /** While queued: leaves the queue when the signal aborts. */
  leaveQueue?: () => void;
  resolve(result: ExecResult): void;
  reject(error: Error): void;
}

interface Running {
  readonly request: Request;
  readonly output: Record<StreamName, BoundedOutput>;
  readonly framing: Record<StreamName, MarkerFraming>;
  readonly ended: Record<StreamName, boolean>;
  code?: number;
  pid?: number;
  /** The signal to send once the pid is known (a cancel came first). */
  killWith?: 'TERM' | 'KILL';
  timer?: NodeJS.Timeout;
  onAbort(): void;
}

export class ExecChannel {
  private current: Running | undefined;
  private readonly queue: Request[] = [];
  private closed = false;

  private constructor(
    private readonly engine: ExecEngine,
    private readonly containerId: string,
    private readonly stream: Duplex,
  ) {
    engine.demux(stream, (chunk) => this.onData('stdout', chunk), (chunk) => this.onData('stderr', chunk));
    const close = (): void => this.onClosed();
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
    const { stream } = await engine.openExec(containerId, { argv: ['sh', '-c', CHANNEL_SCRIPT, 'gitiso-channel'], stdin: true });
    // Requests are small writes: do not let Nagle hold them back.
    (stream as Partial<Socket>).setNoDelay?.(true);
    return new ExecChannel(engine, containerId, stream);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Runs one command; commands on one channel run one after another. Fails with
   * ChannelClosedError when the command never started (safe to run elsewhere),
   * and with OutcomeUnknownError when the channel closed while it ran.
   */
  run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const what = describe(argv);
      // The deadline counts from the call: time in the queue is part of it.
      const signal = withTimeout(options.signal, options.timeoutMs);
      const request: Request = { argv, options, what, signal, resolve, reject };
      if (signal?.aborted) {
        reject(abortError(signal, what));
      } else if (this.closed) {
        reject(new ChannelClosedError());
      } else if (this.current) {
        this.queue.push(request);
        request.leaveQueue = (): void => {
          const at = this.queue.indexOf(request);
          if (at >= 0) {
            this.queue.splice(at, 1);
            reject(abortError(signal as AbortSignal, what));
          }
        };
        signal?.addEventListener('abort', request.leaveQueue, { once: true });
      } else {
        this.start(request);
      }
    });
  }

  close(): void {
    this.closed = true;
    this.stream.destroy();
    this.onClosed();
  }

  private start(request: Request): void {
    const { argv, options, what, signal } = request;
    if (request.leaveQueue) {
      signal?.removeEventListener('abort', request.leaveQueue);
    }
    if (this.closed || this.stream.destroyed || !this.stream.writable) {
      this.closed = true;
      request.reject(new ChannelClosedError());
      this.next();
      return;
    }
    if (signal?.aborted) {
      request.reject(abortError(signal, what));
      this.next();
      return;
    }
    const nonce = freshNonce();
    const prefix = Buffer.from(`\0${nonce}:`);
    const running: Running = {
      request,
      output: { stdout: new BoundedOutput(options.maxOutputBytes), stderr: new BoundedOutput(options.maxOutputBytes) },
      framing: {
        stdout: new MarkerFraming(prefix, { output: (bytes) => this.deliver(running, 'stdout', bytes), marker: (kind, value) => this.onMarker({ running, stream: 'stdout', kind, value }) }),
        stderr: new MarkerFraming(prefix, { output: (bytes) => this.deliver(running, 'stderr', bytes), marker: (kind, value) => this.onMarker({ running, stream: 'stderr', kind, value }) }),
      },
      ended: { stdout: false, stderr: false },
      onAbort: () => this.cancel(running),
    };
    signal?.addEventListener('abort', running.onAbort, { once: true });
    this.current = running;
    this.holdProcess(true);
    const line = [nonce, escapeWord(options.workdir ?? '/'), ...argv.map(escapeWord)].join(' ');
    this.stream.write(`${line}\n`);
  }

  /**
   * TERM first, so the command can clean up (git removes its locks); KILL when
   * it will not go; and when even that brings no end (a stopped shell), the
   * channel is given up, so a cancel or timeout always returns.
   */
  private cancel(running: Running): void {
    this.kill(running, 'TERM');
    running.timer = setTimeout(() => {
      this.kill(running, 'KILL');
      running.timer = setTimeout(() => {
        if (this.current === running) {
          this.close();
        }
      }, KILL_GRACE_MS);
    }, KILL_GRACE_MS);
  }

  private kill(running: Running, signal: 'TERM' | 'KILL'): void {
    running.killWith = signal;
    if (running.pid === undefined) {
      return; // sent when the pid comes
    }
    const script = `kill -${signal} "-$1" 2>/dev/null || kill -${signal} "$1" 2>/dev/null`;
    // Best effort: the command may have ended already.
    void this.engine.spawnDetached(this.containerId, ['sh', '-c', script, 'gitiso-kill', String(running.pid)]).catch(() => undefined);
  }

  private next(): void {
    const request = this.queue.shift();
    if (request) {
      this.start(request);
    } else {
      this.holdProcess(false);
    }
  }

  /** Ends the running command: a result, or an error. */
  private settle(running: Running, outcome: { result: ExecResult } | { error: Error }): void {
    if (this.current !== running) {
      return;
    }
    this.current = undefined;
    clearTimeout(running.timer);
    const { request } = running;
    request.signal?.removeEventListener('abort', running.onAbort);
    if (request.signal?.aborted) {
      request.reject(abortError(request.signal, request.what));
    } else if ('error' in outcome) {
      request.reject(outcome.error);
    } else {
      request.resolve(outcome.result);
    }
    this.next();
  }

  private onClosed(): void {
    this.closed = true;
    const running = this.current;
    if (running) {
      // Its request was sent: it may have run, in part or in full.
      this.settle(running, { error: new OutcomeUnknownError(running.request.what) });
    } else {
      this.next();
    }
  }

  private onData(stream: StreamName, chunk: Buffer): void {
    const running = this.current;
    // Output between commands is from what an earlier command left running: nobody's.
    if (running && !running.ended[stream]) {
      running.framing[stream].push(chunk);
    }
  }

  private deliver(running: Running, stream: StreamName, bytes: Buffer): void {
    if (bytes.length === 0 || running.ended[stream]) {
      return;
    }
    running.output[stream].push(bytes);
    const { onStdout, onStderr } = running.request.options;
    (stream === 'stdout' ? onStdout : onStderr)?.(bytes);
  }

  private onMarker(marker: { running: Running; stream: StreamName; kind: 'pid' | 'end'; value: number }): void {
    const { running, stream, kind, value } = marker;
    if (running.ended[stream]) {
      return;
    }
    if (kind === 'pid') {
      running.pid = value;
      if (running.killWith) {
        this.kill(running, running.killWith);
      }
      return;
    }
    running.code = value;
    running.ended[stream] = true;
    if (running.ended.stdout && running.ended.stderr) {
      const { output } = running;
      this.settle(running, {
        result: {
          exitCode: running.code,
          stdout: output.stdout.text(),
          stderr: output.stderr.text(),
          ...(output.stdout.truncated || output.stderr.truncated ? { truncated: true } : {}),
        },
      });
    }
  }
}
