import { CancelledError, TimeoutError } from '../errors';

/** One signal that fires on the caller's abort or after `timeoutMs`, whichever comes first. */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  const signals = [signal, timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
  if (signals.length <= 1) {
    return signals[0];
  }
  return AbortSignal.any(signals);
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
