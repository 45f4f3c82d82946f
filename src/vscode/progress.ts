import * as vscode from 'vscode';

export type ProgressReporter = vscode.Progress<{ message?: string; increment?: number }>;

/**
 * Long work with progress and a Cancel button: the button aborts the signal
 * the work is given, which the core takes as its cancellation. A
 * notification unless told otherwise.
 */
export function withCancellableProgress<T>(
  options: { readonly title: string; readonly location?: vscode.ProgressLocation },
  work: (signal: AbortSignal, progress: ProgressReporter) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress({ location: options.location ?? vscode.ProgressLocation.Notification, title: options.title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    try {
      return await work(abort.signal, progress);
    } finally {
      cancel.dispose();
    }
  });
}
