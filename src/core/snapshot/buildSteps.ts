import type { StepTimings } from '../base/stepTimings';

/**
 * A shell function for a build script: `step NAME` prints a line that says
 * NAME has just ended, with the clock in nanoseconds. The first call (`step
 * start`) only sets the clock.
 */
export const STEP_FUNCTION = `step() { echo "gitiso-step $(date +%s%N) $1"; }`;

const STEP_LINE = /^gitiso-step (\d+) (.+)$/;

/** Tells `timings` how long each step of a build script's output took (from one step line to the next); returns their sum. */
export function reportSteps(stdout: string, timings: StepTimings): number {
  let previous: bigint | undefined;
  let sum = 0;
  for (const line of stdout.split('\n')) {
    const match = STEP_LINE.exec(line);
    if (!match) {
      continue;
    }
    const at = BigInt(match[1] as string);
    if (previous !== undefined) {
      const ms = Number(at - previous) / 1e6;
      timings(match[2] as string, ms);
      sum += ms;
    }
    previous = at;
  }
  return sum;
}
