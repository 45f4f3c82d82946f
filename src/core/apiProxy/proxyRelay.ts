import { Duplex } from 'node:stream';
import { describeCause, GitisoError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { dataFrames, encodeFrame, FrameReader, RelayProtocolError, type RelayFrame } from './relayFrames';

/** Connections one agent may hold open through its relay; more are closed as they come. */
export const MAX_RELAYED_CONNECTIONS = 64;
/** How long the listener may take to say it is up (an interpreter's start on a busy engine) before the relay gives up. */
export const RELAY_READY_TIMEOUT_MS = 20_000;

export interface ProxyRelayOptions {
  readonly agentId: string;
  /** The listener's exec stream in the agent (agentListener.ts over openExecStream). */
  readonly stream: Duplex;
  /** Takes each connection the agent opened, as that agent's: the proxy serves it. */
  readonly accept: (connection: Duplex) => void;
  /** Told once when the relay ends, whatever ended it. */
  readonly onEnd?: () => void;
  readonly readyTimeoutMs?: number;
  readonly log?: Logger;
}

/**
 * One agent's way to the host's API proxy where the proxy cannot listen for
 * it (an engine on another machine, or a second engine beside the one it
 * listens for): a listener in the agent's container (agentListener.ts) sends
 * each connection made to it over one exec stream, and each becomes a stream
 * here that the proxy serves as this agent's. The agent names no
 * destination: its bytes reach the proxy and nothing else. What it sends is
 * checked frame by frame; anything else ends the relay.
 */
export class ProxyRelay {
  /** Settles when the listener is up (then the agent's tool can connect), or why it is not. */
  readonly ready: Promise<void>;
  private readonly connections = new Map<number, RelayedConnection>();
  /** Connections the proxy has not read up with: the stream waits until they drain. */
  private readonly full = new Set<number>();
  private readonly reader = new FrameReader();
  private readonly log: Logger;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private ended = false;

  constructor(private readonly options: ProxyRelayOptions) {
    this.log = options.log ?? silentLogger;
    this.ready = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Seen by whoever awaits it; a relay nobody waits for must not warn of an unhandled rejection.
    this.ready.catch(() => undefined);
    const timeoutMs = options.readyTimeoutMs ?? RELAY_READY_TIMEOUT_MS;
    const timer = setTimeout(() => this.end(new GitisoError(`the API relay in ${options.agentId} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    this.ready.then(() => clearTimeout(timer), () => clearTimeout(timer));
    const { stream } = options;
    stream.on('data', (chunk: Buffer) => this.received(chunk));
    stream.on('end', () => this.end(new GitisoError(`the API relay in ${options.agentId} ended`)));
    stream.on('close', () => this.end(new GitisoError(`the API relay in ${options.agentId} ended`)));
    stream.on('error', (error: Error) => this.end(new GitisoError(`the API relay in ${options.agentId} failed: ${describeCause(error)}`)));
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Ends the listener in the agent and every connection through it. */
  close(): void {
    this.end(new GitisoError(`the API relay in ${this.options.agentId} was closed`));
  }

  /** @internal A connection's frames to the agent; `done` once the stream took them. */
  send(frames: Buffer[], done?: (error?: Error | null) => void): void {
    if (this.ended) {
      done?.(new Error('the relay ended'));
      return;
    }
    const last = frames.length - 1;
    frames.forEach((frame, index) => this.options.stream.write(frame, index === last ? done : undefined));
  }

  /** @internal The proxy read what a full connection held: the stream may go on. */
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
    let frames: RelayFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      if (!(error instanceof RelayProtocolError)) {
        throw error;
      }
      this.log.warn(`API relay: ${this.options.agentId} sent what is not a relay frame (${error.message}): its relay is ended`);
      this.end(new GitisoError(`the API relay in ${this.options.agentId} sent what is not a relay frame`));
      return;
    }
    for (const frame of frames) {
      this.apply(frame);
    }
  }

  private apply({ kind, connection, data }: RelayFrame): void {
    const known = this.connections.get(connection);
    switch (kind) {
      case 'L':
        this.settle?.resolve();
        return;
      case 'N':
        this.end(new GitisoError(`${this.options.agentId} has neither python3 nor node, one of which gitiso needs in the agent to reach the API key proxy on this machine: install one in the agent's image (the gitiso.image setting), or run the task on the local engine`));
        return;
      case 'O':
        if (known || connection === 0) {
          return;
        }
        if (this.connections.size >= MAX_RELAYED_CONNECTIONS) {
          this.send([encodeFrame('C', connection)]);
          return;
        }
        this.opened(connection);
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

  private opened(connection: number): void {
    const relayed = new RelayedConnection(this, connection);
    this.connections.set(connection, relayed);
    this.options.accept(relayed);
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

/** One connection the agent made to its listener, as the proxy sees it: bytes in frames over the relay. */
class RelayedConnection extends Duplex {
  private peerClosed = false;
  private readEnded = false;

  constructor(private readonly relay: ProxyRelay, private readonly connection: number) {
    super({ allowHalfOpen: true });
  }

  /** Bytes the agent sent on this connection, false when the proxy should catch up; nothing after its end (a hostile agent may send more). */
  deliver(chunk: Buffer | null): boolean {
    if (this.readEnded || this.destroyed) {
      return true;
    }
    this.readEnded = chunk === null;
    return this.push(chunk);
  }

  override _read(): void {
    this.relay.drained(this.connection);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.relay.send(dataFrames(this.connection, chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.relay.send([encodeFrame('E', this.connection)], callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.relay.forget(this.connection, !this.peerClosed && this.relay.open);
    callback(error);
  }

  /** The agent's side closed it: nothing is sent back when it is destroyed. */
  closedByPeer(): void {
    this.peerClosed = true;
    this.destroy();
  }
}
