import { CancelledError, TimeoutError } from '../errors';

/**
 * One signal that fires on the caller's abort or after `timeoutMs`, whichever
 * comes first. Not AbortSignal.any with AbortSignal.timeout: Node 20 lets the
 * garbage collector take the timeout's signal (only weakly held), and the
 * timeout then never fires. Here the timer holds the controller; unref'd, it
 * keeps no process alive.
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
  signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
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
