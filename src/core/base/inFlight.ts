/**
 * Reads shared by the callers that ask while one is running: the first runs
 * it, the others get its promise; once it settles the next call runs again.
 * For cheap reads without cancellation (a cancellable shared task is
 * SharedTasks). The key must name everything the answer depends on.
 */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  share(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) {
      return running;
    }
    const started = read().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}
