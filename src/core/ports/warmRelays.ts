import type { Duplex } from 'node:stream';
import { GO_BYTE } from './relayPrograms';

/** Spares kept per forward: a browser opens several connections at once. */
export const SPARES_PER_FORWARD = 2;

/**
 * How long after a connection takes a spare its replacement starts: an exec
 * starting at the same moment slows the connection just handed out (first
 * byte 44 → 17 ms with bash, 28 → 14 ms with python3, measured). Connections
 * in between take the other spares, then fresh execs (which a spare started
 * at once would hardly have beaten).
 */
export const REFILL_DELAY_MS = 50;

/**
 * Relays started ahead of their connections, for one forward through the
 * engine: starting an exec costs far more than a connection (130–270 ms
 * against 3 ms), so a new connection takes a spare that is ready (or at
 * least already starting) and a replacement starts a moment later. A spare waits
 * for the go byte before it connects to the agent's port (relayPrograms.ts).
 *
 * A spare that ends unused (the container stopped, the agent went) is
 * dropped and not replaced until a connection asks: no restart loop. A spare
 * that prints before its go byte is no relay of ours: dropped unread beyond
 * the one chunk that showed it, so nothing of it reaches a client.
 */
export class RelayPool {
  /** Oldest first. */
  private readonly spares: Duplex[] = [];
  private readonly watchers = new Map<Duplex, () => void>();
  private closed = false;
  private refill: NodeJS.Timeout | undefined;

  constructor(private readonly start: () => Duplex, private readonly size = SPARES_PER_FORWARD) {
    this.fill();
  }

  /** A relay for a new connection, told to connect; what the caller writes follows the go byte. */
  take(): Duplex {
    let relay = this.spares.shift();
    // One destroyed a moment ago may still be here (its 'close' comes later).
    while (relay?.destroyed) {
      this.unwatch(relay);
      relay = this.spares.shift();
    }
    relay ??= this.start();
    this.unwatch(relay);
    relay.write(GO_BYTE);
    this.refillSoon();
    return relay;
  }

  /** Ends every spare (each exec stream kills its program): nothing is left running in the container. */
  close(): void {
    this.closed = true;
    clearTimeout(this.refill);
    for (const spare of this.spares.splice(0)) {
      this.unwatch(spare);
      spare.on('error', () => undefined);
      spare.destroy();
    }
  }

  /** How many spares are kept now (for tests). */
  get spareCount(): number {
    return this.spares.length;
  }

  private refillSoon(): void {
    if (this.refill || this.closed) {
      return;
    }
    this.refill = setTimeout(() => {
      this.refill = undefined;
      this.fill();
    }, REFILL_DELAY_MS);
    this.refill.unref();
  }

  private fill(): void {
    while (!this.closed && this.spares.length < this.size) {
      this.keep(this.start());
    }
  }

  private keep(spare: Duplex): void {
    const drop = (): void => {
      this.unwatch(spare);
      const index = this.spares.indexOf(spare);
      if (index >= 0) {
        this.spares.splice(index, 1);
      }
      spare.on('error', () => undefined);
      spare.destroy();
    };
    // Any byte before the go byte, its end or an error (the exec could not start) drops it.
    const readable = (): void => {
      if (spare.read() !== null || spare.readableEnded) {
        drop();
      }
    };
    spare.on('readable', readable);
    spare.on('end', drop);
    spare.on('close', drop);
    spare.on('error', drop);
    this.watchers.set(spare, () => {
      spare.off('readable', readable);
      spare.off('end', drop);
      spare.off('close', drop);
      spare.off('error', drop);
    });
    this.spares.push(spare);
  }

  private unwatch(spare: Duplex): void {
    this.watchers.get(spare)?.();
    this.watchers.delete(spare);
  }
}
