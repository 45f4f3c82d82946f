import { abortError } from './abort';

interface Running<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  /** Callers that can still cancel; a caller without a signal keeps the task to the end. */
  cancellable: number;
  pinned: boolean;
}

/**
 * Work shared by concurrent callers of one key (a fetch, a snapshot build):
 * it starts with the first and runs once. A caller that cancels stops waiting
 * at once; the work itself is cancelled only when no caller waits any more.
 */
export class SharedTasks<T> {
  private readonly running = new Map<string, Running<T>>();

  /** How many tasks run now. */
  get size(): number {
    return this.running.size;
  }

  run(task: { readonly key: string; readonly what: string; readonly signal?: AbortSignal }, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { key, what, signal } = task;
    if (signal?.aborted) {
      return Promise.reject(abortError(signal, what));
    }
    let entry = this.running.get(key);
    if (!entry) {
      const controller = new AbortController();
      const promise = start(controller.signal).finally(() => this.forget(key, created));
      promise.catch(() => undefined); // each caller observes it below
      const created: Running<T> = { promise, controller, cancellable: 0, pinned: false };
      entry = created;
      this.running.set(key, entry);
    }
    if (!signal) {
      entry.pinned = true;
      return entry.promise;
    }
    const shared = entry;
    shared.cancellable++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        shared.cancellable--;
        if (shared.cancellable === 0 && !shared.pinned) {
          shared.controller.abort(signal.reason);
          // A caller that comes while it winds down starts afresh.
          this.forget(key, shared);
        }
        reject(abortError(signal, what));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      shared.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private forget(key: string, entry: Running<T>): void {
    if (this.running.get(key) === entry) {
      this.running.delete(key);
    }
  }
}
