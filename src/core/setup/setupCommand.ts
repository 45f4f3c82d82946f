import { WORKSPACE } from '../agent';
import { withTimeout } from '../base/abort';
import { TimeoutError } from '../errors';
import type { Engine } from '../docker/engine';
import { redactCredentials, type Logger } from '../logger';

/** How much of a failed setup's output its error keeps. */
const ERROR_TAIL_LINES = 3;

export interface SetupCommandRun {
  readonly containerId: string;
  readonly command: string;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Where it runs; /workspace when absent. */
  readonly workdir?: string;
  /** How its failure names it, when not as `command` (a script around the user's command). */
  readonly shownAs?: string;
  /** Past `ms` the command is ended and `error` (given the limit in seconds) thrown; the caller's cancellation stays one. */
  readonly timeout?: { readonly ms: number; readonly error: (seconds: number) => Error };
}

/**
 * Runs a setup command (the user's own shell command) in a container's
 * /workspace, its output line by line into the log. Returns why it failed, or
 * undefined when it succeeded; throws past its time limit.
 */
export async function runSetupCommand(engine: Pick<Engine, 'exec'>, run: SetupCommandRun): Promise<string | undefined> {
  const { containerId, command, log, signal, timeout } = run;
  const lines = new LineLogger(log);
  const result = await engine
    .exec(containerId, ['sh', '-c', command], {
      workdir: run.workdir ?? WORKSPACE,
      signal: withTimeout(signal, timeout?.ms),
      onStdout: (chunk) => lines.push(chunk),
      onStderr: (chunk) => lines.push(chunk),
    })
    .catch((error: unknown) => {
      throw timeout && error instanceof TimeoutError && !signal?.aborted ? timeout.error(Math.round(timeout.ms / 1000)) : error;
    });
  lines.flush();
  if (result.exitCode === 0) {
    return undefined;
  }
  const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-ERROR_TAIL_LINES).join(' ').trim();
  // 137 is SIGKILL: within a container's limits, almost always the kernel's out-of-memory killer.
  const killed = result.exitCode === 137 ? ' (killed: out of memory?)' : '';
  return redactCredentials(`'${run.shownAs ?? command}' exited with ${result.exitCode}${killed}${tail ? `: ${tail}` : ''}`);
}

/** Logs output a line at a time, however the chunks fall. */
class LineLogger {
  private partial = '';

  constructor(private readonly log: Logger) {}

  push(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      this.log.info(`  │ ${redactCredentials(line)}`);
    }
  }

  flush(): void {
    if (this.partial) {
      this.log.info(`  │ ${redactCredentials(this.partial)}`);
      this.partial = '';
    }
  }
}
