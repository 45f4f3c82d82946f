/**
 * Runs `body` with a signal that Ctrl-C (or any of `signals`) aborts, and
 * always removes the handler after. The handler fires once: a second Ctrl-C
 * meets Node's default and ends the process, as users expect when a
 * cancellation hangs.
 */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>, signals: readonly NodeJS.Signals[] = ['SIGINT']): Promise<T> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  for (const name of signals) {
    process.once(name, onSignal);
  }
  try {
    return await body(abort.signal);
  } finally {
    for (const name of signals) {
      process.off(name, onSignal);
    }
  }
}
