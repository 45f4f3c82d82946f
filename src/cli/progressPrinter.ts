import type { CreateProgress } from '../core/create/createRequest';

export interface ProgressPrinter {
  readonly update: (progress: CreateProgress) => void;
  /** Ends a line left open on a terminal; safe to call more than once. */
  readonly done: () => void;
}

/** One line that rewrites itself on a terminal; one line per phase elsewhere (per agent when there are several). */
export function progressPrinter(several: boolean): ProgressPrinter {
  const tty = process.stderr.isTTY && !several;
  const lastPhase = new Map<string, string>();
  let open = false;
  return {
    update(progress) {
      const percent = progress.percent === undefined ? '' : ` ${progress.percent}%`;
      const line = `${progress.agentId}: ${progress.phase}: ${progress.message}${percent}`;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        open = true;
      } else if (progress.phase !== lastPhase.get(progress.agentId)) {
        process.stderr.write(`${line}\n`);
      }
      lastPhase.set(progress.agentId, progress.phase);
    },
    done() {
      if (open) {
        process.stderr.write('\n');
        open = false;
      }
    },
  };
}
