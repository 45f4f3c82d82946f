/** What a subscription returns; VS Code's Disposable has the same shape. */
export interface Disposable {
  dispose(): void;
}

/** A listenable event, shaped like VS Code's `Event<T>` so the UI can use it directly. */
export type Event<T> = (listener: (value: T) => void) => Disposable;

/** A small event emitter for the core (VS Code's EventEmitter cannot be imported here). */
export class Emitter<T> implements Disposable {
  private listeners = new Set<(value: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      listener(value);
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
