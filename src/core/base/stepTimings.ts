/**
 * Told how long each step of gitiso's own work took, by name ('pool clone',
 * 'checkout'…): how the benchmark breaks a create down from what the core
 * measured, not from guesses. Steps of concurrent work interleave.
 */
export type StepTimings = (step: string, ms: number) => void;

export const noTimings: StepTimings = () => undefined;

/** Runs `body` and tells `timings` how long it took, whether it succeeded or not. */
export async function timeStep<T>(timings: StepTimings, step: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await body();
  } finally {
    timings(step, performance.now() - started);
  }
}

const ALONGSIDE = ' (alongside)';

/** The name of a step done while another runs (a container started while the pool clones): it adds nothing to the total. */
export function alongside(step: string): string {
  return `${step}${ALONGSIDE}`;
}

/** Whether a step's time overlaps others' (see alongside), so that summing it would count time twice. */
export function isAlongside(step: string): boolean {
  return step.endsWith(ALONGSIDE);
}
