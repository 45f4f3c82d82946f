import { CancelledError, TimeoutError } from '../errors';

/**
 * One signal that fires on the caller's abort or after `timeoutMs`, whichever
 * comes first. Not AbortSignal.any with AbortSignal.timeout: Node 20 lets the
 * garbage collector take the timeout's signal (only weakly held), and the
 * timeout then never fires. Here the timer holds the controller; unref'd, it
 * keeps no process alive. Its listener on `signal` goes when it fires, so a
 * long-lived `signal` holds at most the calls of the last `timeoutMs`.
 */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  if (!timeoutMs) {
    return signal;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  timer.unref();
  if (signal?.aborted) {
    controller.abort(signal.reason);
  }
  const passOn = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', passOn, { once: true });
  // The caller's signal may live long (a sampler's, aborted only at its disposal): this
  // signal's listener leaves it once this one has fired, else each call would add one for good.
  controller.signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', passOn);
    },
    { once: true },
  );
  return controller.signal;
}

/** The error to raise for an aborted signal: a timeout says so, anything else is a cancellation. */
export function abortError(signal: AbortSignal, what: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new TimeoutError(`${what} timed out`);
  }
  return new CancelledError(what);
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw abortError(signal, what);
  }
}

/**
 * `work`, or the abort error as soon as `signal` aborts: for waiting on work
 * shared with others (a pool's fetch another create also waits for), which
 * goes on after this caller's abort.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) {
    return work;
  }
  if (signal.aborted) {
    return Promise.reject(abortError(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}
