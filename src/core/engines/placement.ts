import { formatBytes } from '../limits/agentLimits';

/** What placement knows of an engine: whether it answers, its memory, and the memory limit each new agent would get there. */
export interface EngineRoom {
  readonly name: string;
  readonly answers: boolean;
  readonly reservedBytes: number;
  readonly totalBytes: number;
  readonly askedBytes: number;
}

/**
 * Placement on "any" engine: of the engines that answer and admit the agents
 * (their memory limits fit beside the running agents', as admission checks
 * on one engine), the one with the most memory left after them; ties go to
 * the engine named first. Undefined when none admits them. No scheduler
 * beyond this: what a user outgrows next is a real orchestrator.
 */
export function placeAgents(engines: readonly EngineRoom[], count: number): { readonly name: string; readonly leftBytes: number } | undefined {
  let best: { name: string; leftBytes: number } | undefined;
  for (const engine of engines) {
    // An engine that does not say its memory (0) admits anything, as admission does; it is chosen only when no other fits.
    const leftBytes = engine.totalBytes > 0 ? engine.totalBytes - engine.reservedBytes - count * engine.askedBytes : -1;
    if (engine.answers && (engine.totalBytes <= 0 || leftBytes >= 0) && (!best || leftBytes > best.leftBytes)) {
      best = { name: engine.name, leftBytes };
    }
  }
  return best;
}

/** What the progress message says of the choice: "on big-box (12.0 GB left)". */
export function placementText(place: { readonly name: string; readonly leftBytes: number }): string {
  return place.leftBytes >= 0 ? `on ${place.name} (${formatBytes(place.leftBytes)} left)` : `on ${place.name}`;
}
