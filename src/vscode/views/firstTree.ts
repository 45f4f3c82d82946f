/** Work that waits for the first tree waits no longer than this (a view that never asks, a slow engine). */
const MAX_WAIT_MS = 3_000;

/**
 * When the window's first complete tree was shown: the start-up work that
 * can wait (stats sampling, dev server probes, the sweep for leftovers) waits
 * for it, so that with 100 agents the engine and the extension host answer
 * the one listing the tree needs first. Settled by the tree's first read of
 * the engine's list, by the model's first answer while the view is hidden,
 * or after MAX_WAIT_MS whatever happens.
 */
export class FirstTree {
  readonly shown: Promise<void>;
  private settle: () => void = () => undefined;
  private done = false;
  private readonly timer: NodeJS.Timeout;

  constructor(maxWaitMs = MAX_WAIT_MS) {
    this.shown = new Promise((resolve) => (this.settle = resolve));
    this.timer = setTimeout(() => this.markShown(), maxWaitMs);
    this.timer.unref?.();
  }

  get isShown(): boolean {
    return this.done;
  }

  markShown(): void {
    if (!this.done) {
      this.done = true;
      clearTimeout(this.timer);
      this.settle();
    }
  }
}

/**
 * Runs `start` once `gate` settles (at once without one), unless disposed
 * first: a controller disposed before the first tree must not start its work.
 */
export function startAfter(gate: Promise<void> | undefined, start: () => void): { dispose(): void } {
  let disposed = false;
  void (gate ?? Promise.resolve()).then(() => {
    if (!disposed) {
      start();
    }
  });
  return { dispose: () => (disposed = true) };
}
