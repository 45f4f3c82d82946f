import { Duplex } from 'node:stream';
import { describeCause, GitisoError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { dataFrames, encodeFrame, FrameReader, MuxProtocolError, type MuxFrame } from './muxFrames';

/** Connections the agent may open through a listening mux; more are closed as they come. */
export const MAX_AGENT_CONNECTIONS = 64;
/** How long the program may take to say it is up (an interpreter's start on a busy engine) before the mux gives up. */
export const MUX_READY_TIMEOUT_MS = 20_000;

export interface ConnectionMuxOptions {
  /** What the log and errors call it: "the API relay in agent-1". */
  readonly name: string;
  /** The mux program's exec stream in the agent (muxPrograms.ts over openExecStream). */
  readonly stream: Duplex;
  /**
   * A listening mux: takes each connection the agent made to it. Without it,
   * the mux connects (open()), and the agent opens nothing.
   */
  readonly accept?: (connection: Duplex) => void;
  /** What to do when the container has neither program the mux needs (said as the mux's error). */
  readonly missingProgram: string;
  /** Told once when the mux ends, whatever ended it. */
  readonly onEnd?: () => void;
  readonly readyTimeoutMs?: number;
  readonly log?: Logger;
}

/**
 * Many TCP connections inside an agent's container over one exec stream: a
 * program there (muxPrograms.ts) listens or connects on 127.0.0.1, and each
 * connection is a stream here. One exec serves them all, so a new connection
 * costs a frame, not an exec's start. The agent names no destination: what
 * it sends reaches the one consumer given here. Everything it sends is
 * checked frame by frame; anything else ends the mux and its connections.
 */
export class ConnectionMux {
  /** Settles when the program is up (a listener can be connected to), or why it is not. */
  readonly ready: Promise<void>;
  private readonly connections = new Map<number, MuxedConnection>();
  /** Connections whose reader has not caught up: the stream waits until they drain. */
  private readonly full = new Set<number>();
  private readonly reader = new FrameReader();
  private readonly log: Logger;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private ended = false;
  private lastOpened = 0;

  constructor(private readonly options: ConnectionMuxOptions) {
    this.log = options.log ?? silentLogger;
    this.ready = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Seen by whoever awaits it; a mux nobody waits for must not warn of an unhandled rejection.
    this.ready.catch(() => undefined);
    const timeoutMs = options.readyTimeoutMs ?? MUX_READY_TIMEOUT_MS;
    const timer = setTimeout(() => this.end(new GitisoError(`${options.name} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    this.ready.then(() => clearTimeout(timer), () => clearTimeout(timer));
    const { stream } = options;
    stream.on('data', (chunk: Buffer) => this.received(chunk));
    stream.on('end', () => this.end(new GitisoError(`${options.name} ended`)));
    stream.on('close', () => this.end(new GitisoError(`${options.name} ended`)));
    stream.on('error', (error: Error) => this.end(new GitisoError(`${options.name} failed: ${describeCause(error)}`)));
  }

  get open(): boolean {
    return !this.ended;
  }

  /**
   * A new connection to the agent's port (a connecting mux), at once: its
   * bytes wait in the stream until the program connects; a refused connect
   * closes it.
   */
  connect(): Duplex {
    if (this.options.accept) {
      throw new Error('a listening mux opens no connections');
    }
    const connection = new MuxedConnection(this, ++this.lastOpened);
    if (this.ended) {
      connection.destroy(new GitisoError(`${this.options.name} has ended`));
      return connection;
    }
    this.connections.set(connection.id, connection);
    this.send([encodeFrame('O', connection.id)]);
    return connection;
  }

  /** Ends the program in the agent and every connection through it. */
  close(): void {
    this.end(new GitisoError(`${this.options.name} was closed`));
  }

  /** @internal A connection's frames to the agent; `done` once the stream took them. */
  send(frames: Buffer[], done?: (error?: Error | null) => void): void {
    if (this.ended) {
      done?.(new Error(`${this.options.name} has ended`));
      return;
    }
    const last = frames.length - 1;
    frames.forEach((frame, index) => this.options.stream.write(frame, index === last ? done : undefined));
  }

  /** @internal A connection's reader caught up: the stream may go on. */
  drained(connection: number): void {
    if (this.full.delete(connection) && this.full.size === 0) {
      this.options.stream.resume();
    }
  }

  /** @internal A connection ended here; `tell` when the agent's side does not know yet. */
  forget(connection: number, tell: boolean): void {
    this.connections.delete(connection);
    this.drained(connection);
    if (tell) {
      this.send([encodeFrame('C', connection)]);
    }
  }

  private received(chunk: Buffer): void {
    let frames: MuxFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      if (!(error instanceof MuxProtocolError)) {
        throw error;
      }
      this.log.warn(`${this.options.name} sent what is not a mux frame (${error.message}): it is ended`);
      this.end(new GitisoError(`${this.options.name} sent what is not a mux frame`));
      return;
    }
    for (const frame of frames) {
      this.apply(frame);
    }
  }

  private apply({ kind, connection, data }: MuxFrame): void {
    const known = this.connections.get(connection);
    switch (kind) {
      case 'L':
        this.settle?.resolve();
        return;
      case 'N':
        this.end(new GitisoError(this.options.missingProgram));
        return;
      case 'O':
        this.accepted(connection);
        return;
      case 'D':
        if (known && !known.deliver(data)) {
          this.full.add(connection);
          this.options.stream.pause();
        }
        return;
      case 'E':
        known?.deliver(null);
        return;
      case 'C':
        known?.closedByPeer();
    }
  }

  /** A connection the agent opened: only a listening mux takes one, up to the bound. */
  private accepted(connection: number): void {
    const { accept } = this.options;
    if (!accept || connection === 0 || this.connections.has(connection)) {
      return;
    }
    if (this.connections.size >= MAX_AGENT_CONNECTIONS) {
      this.send([encodeFrame('C', connection)]);
      return;
    }
    const accepted = new MuxedConnection(this, connection);
    this.connections.set(connection, accepted);
    accept(accepted);
  }

  private end(reason: Error): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.settle?.reject(reason);
    for (const connection of this.connections.values()) {
      connection.destroy();
    }
    this.connections.clear();
    this.options.stream.destroy();
    this.options.onEnd?.();
  }
}

/** One connection through a mux: its bytes in frames over the mux's stream. */
class MuxedConnection extends Duplex {
  private peerClosed = false;
  private readEnded = false;

  constructor(private readonly mux: ConnectionMux, readonly id: number) {
    super({ allowHalfOpen: true });
  }

  /** Bytes the agent sent on this connection, false when the reader should catch up; nothing after its end (a hostile agent may send more). */
  deliver(chunk: Buffer | null): boolean {
    if (this.readEnded || this.destroyed) {
      return true;
    }
    this.readEnded = chunk === null;
    return this.push(chunk);
  }

  override _read(): void {
    this.mux.drained(this.id);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.mux.send(dataFrames(this.id, chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.mux.send([encodeFrame('E', this.id)], callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.mux.forget(this.id, !this.peerClosed && this.mux.open);
    callback(error);
  }

  /** The agent's side closed it: nothing is sent back when it is destroyed. */
  closedByPeer(): void {
    this.peerClosed = true;
    this.destroy();
  }
}
