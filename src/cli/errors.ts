import { asError, CancelledError, GitisoError, isCancellation } from '../core/errors';

/** The command line is wrong: exit code 2, like Node's own parse errors (which args.ts turns into this). */
export class UsageError extends GitisoError {
  override readonly name = 'UsageError';
}

/** The usage error of a command: its usage line. */
export function usageError(line: string): UsageError {
  return new UsageError(`usage: ${line}`);
}

/** Any thrown value as the text printed after "gitiso: ". */
export function messageOf(error: unknown): string {
  return asError(error).message;
}

/** Says on stderr why the command failed and returns the exit code: 130 cancelled, 2 usage, 1 anything else. */
export function reportFailure(error: unknown): number {
  if (isCancellation(error)) {
    process.stderr.write(`gitiso: ${error instanceof CancelledError ? error.message : 'cancelled'}\n`);
    return 130;
  }
  process.stderr.write(`gitiso: ${messageOf(error)}\n`);
  return error instanceof UsageError ? 2 : 1;
}
