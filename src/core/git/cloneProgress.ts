/** One step of git's own progress output, e.g. "Receiving objects:  45% (450/1000)". */
export interface GitProgress {
  readonly phase: string;
  readonly percent: number;
}

const PROGRESS_LINE = /^(?:remote: )?([A-Z][a-z]+(?: [a-z]+)*):\s+(\d{1,3})%/;

/**
 * Reads git's `--progress` output as it streams. git rewrites a line with "\r"
 * while it counts, so records end at "\r" or "\n"; a record may arrive split
 * across chunks, so the tail is kept until its end arrives.
 */
export class CloneProgressParser {
  private tail = '';

  push(chunk: string): GitProgress[] {
    const records = (this.tail + chunk).split(/[\r\n]/);
    this.tail = records.pop() ?? '';
    const steps: GitProgress[] = [];
    for (const record of records) {
      const match = PROGRESS_LINE.exec(record.trim());
      if (match?.[1] && match[2]) {
        steps.push({ phase: match[1], percent: Math.min(100, Number(match[2])) });
      }
    }
    return steps;
  }
}
