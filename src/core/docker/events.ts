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

/** One engine event of a container: which container, and what happened to it (`die`, `destroy`…). */
export interface ContainerEvent {
  readonly containerId: string;
  readonly action: string;
  /** A `die` event's exit code. */
  readonly exitCode?: number;
}

/**
 * What changed: the events since the last fire, in order; or `undefined` when
 * events may have been missed (a connect, a line that could not be read), so
 * everything must be read again.
 */
export type ContainerChange = readonly ContainerEvent[] | undefined;

/** An events line is a few hundred bytes: a longer one is not the engine's, and is dropped (then everything is read again). */
const MAX_EVENT_LINE = 64 * 1024;

export interface EventsWatcherOptions {
  /** Only containers with this label. */
  readonly label: string;
  /** The first event fires at once; the rest of a burst within this window fire once, at its end. */
  readonly debounceMs?: number;
  readonly maxBackoffMs?: number;
  readonly log?: Logger;
}

/**
 * Follows the engine's events stream for labelled containers and fires which
 * containers changed: at once for an event after a quiet spell (a row follows
 * the engine within a listing's time), then at most once per window while a
 * burst (a create, a removal of many) goes on. When the engine goes away it reports so and
 * reconnects with back-off; a reconnect fires a change, since events were missed.
 */
export class ContainerEventsWatcher implements Disposable {
  private readonly changed = new Emitter<ContainerChange>();
  private readonly connection = new Emitter<boolean>();
  readonly onDidChange = this.changed.event;
  /** true when the stream is connected, false when the engine is unreachable. */
  readonly onDidChangeConnection = this.connection.event;

  private stream: NodeJS.ReadableStream | undefined;
  /** The window opened by the last fire: events in it wait for its end. */
  private debounce: NodeJS.Timeout | undefined;
  /** Events waiting for the window's end; `undefined` inside means "read everything". */
  private pending: ContainerEvent[] | undefined | null = null;
  /** The part of the stream after its last newline. */
  private partial = '';
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
      this.partial = '';
      this.backoffMs = 500;
      this.setConnected(true);
      // Events may have been missed before the stream: everything is read again.
      this.changed.fire(undefined);
      stream.on('data', (chunk: Buffer | string) => this.received(chunk.toString()));
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

  /** Splits the stream into its JSON lines; a line that is not an event (or too long) asks for everything to be read. */
  private received(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    let events: ContainerEvent[] | undefined = [];
    if (this.partial.length > MAX_EVENT_LINE) {
      this.partial = '';
      events = undefined;
    }
    for (const line of lines.filter((l) => l.trim() !== '')) {
      const event = parseEvent(line);
      if (!event || !events) {
        events = undefined;
        break;
      }
      events.push(event);
    }
    if (events === undefined || events.length > 0) {
      this.scheduleChange(events);
    }
  }

  private scheduleChange(events: ContainerChange): void {
    if (this.debounce) {
      this.pending = this.pending === undefined || events === undefined ? undefined : [...(this.pending ?? []), ...events];
      return;
    }
    this.fireAndWait(events);
  }

  private fireAndWait(events: ContainerChange): void {
    this.pending = null;
    this.changed.fire(events);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (this.pending !== null) {
        this.fireAndWait(this.pending);
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

/** A line of the engine's events stream: its container and action; undefined when it is not one. */
export function parseEvent(line: string): ContainerEvent | undefined {
  if (line.length > MAX_EVENT_LINE) {
    return undefined;
  }
  try {
    const value = JSON.parse(line) as { id?: unknown; Action?: unknown; status?: unknown; Actor?: { ID?: unknown; Attributes?: { exitCode?: unknown } } };
    const containerId = typeof value.Actor?.ID === 'string' ? value.Actor.ID : value.id;
    const action = typeof value.Action === 'string' ? value.Action : value.status;
    if (typeof containerId !== 'string' || containerId === '' || typeof action !== 'string') {
      return undefined;
    }
    const exitCode = Number(value.Actor?.Attributes?.exitCode);
    return { containerId, action, ...(typeof value.Actor?.Attributes?.exitCode === 'string' && Number.isInteger(exitCode) ? { exitCode } : {}) };
  } catch {
    return undefined;
  }
}
