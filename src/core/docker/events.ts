import { describeCause } from '../errors';
import type { Engine } from './engine';
import { Emitter, type Disposable } from '../base/event';
import { silentLogger, type Logger } from '../logger';

/**
 * Container events that change what an agent list shows. `extract-to-dir` is
 * the write of an agent's state file (it becomes ready). exec_* and
 * archive-path are left out: every git call and state read makes some; so is
 * `kill`: a signal changes nothing the list shows until the `die` it may cause.
 */
const RELEVANT_EVENTS = ['create', 'start', 'stop', 'die', 'destroy', 'pause', 'unpause', 'oom', 'rename', 'update', 'extract-to-dir'];

export interface EventsWatcherOptions {
  /** Only containers with this label. */
  readonly label: string;
  /** The first event fires at once; the rest of a burst within this window fire once, at its end. */
  readonly debounceMs?: number;
  readonly maxBackoffMs?: number;
  readonly log?: Logger;
}

/**
 * Follows the engine's events stream for labelled containers and fires
 * "something changed": at once for an event after a quiet spell (a row follows
 * the engine within a listing's time), then at most once per window while a
 * burst (a create, a removal of many) goes on. When the engine goes away it reports so and
 * reconnects with back-off; a reconnect fires a change, since events were missed.
 */
export class ContainerEventsWatcher implements Disposable {
  private readonly changed = new Emitter<void>();
  private readonly connection = new Emitter<boolean>();
  readonly onDidChange = this.changed.event;
  /** true when the stream is connected, false when the engine is unreachable. */
  readonly onDidChangeConnection = this.connection.event;

  private stream: NodeJS.ReadableStream | undefined;
  /** The window opened by the last fire: events in it wait for its end. */
  private debounce: NodeJS.Timeout | undefined;
  private pending = false;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 500;
  private disposed = false;
  private connected: boolean | undefined;
  private readonly log: Logger;

  constructor(private readonly engine: Engine, private readonly options: EventsWatcherOptions) {
    this.log = options.log ?? silentLogger;
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.disposed) {
      return;
    }
    try {
      const stream = await this.engine.containerEvents(this.options.label, RELEVANT_EVENTS);
      if (this.disposed) {
        (stream as unknown as { destroy(): void }).destroy();
        return;
      }
      this.stream = stream;
      this.backoffMs = 500;
      this.setConnected(true);
      this.changed.fire();
      stream.on('data', () => this.scheduleChange());
      stream.on('error', (error: Error) => this.log.debug(`docker events: ${error.message}`));
      stream.on('close', () => this.lost());
      stream.on('end', () => this.lost());
    } catch (error) {
      this.log.debug(`docker events: cannot connect: ${describeCause(error)}`);
      this.lost();
    }
  }

  private lost(): void {
    this.stream = undefined;
    if (this.disposed || this.retry) {
      return;
    }
    this.setConnected(false);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 2_000);
  }

  private setConnected(connected: boolean): void {
    if (this.connected !== connected) {
      this.connected = connected;
      this.connection.fire(connected);
    }
  }

  private scheduleChange(): void {
    if (this.debounce) {
      this.pending = true;
      return;
    }
    this.fireAndWait();
  }

  private fireAndWait(): void {
    this.pending = false;
    this.changed.fire();
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (this.pending) {
        this.fireAndWait();
      }
    }, this.options.debounceMs ?? 150);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.debounce);
    clearTimeout(this.retry);
    (this.stream as unknown as { destroy?(): void } | undefined)?.destroy?.();
    this.changed.dispose();
    this.connection.dispose();
  }
}
