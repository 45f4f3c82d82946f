import { type AgentStateFile, creationAbandoned, INTERRUPTED_REASON, LABEL } from '../agent';
import { CLONE_TEMP_PREFIX } from '../git/objectPool';
import { isStaleLock } from '../git/poolLock';
import { OWNER_LABEL, parseOwner, type Liveness } from '../ownership';
import { isBuilderAbandoned } from '../snapshot/builderLifetime';
import { parseTempName } from '../tempDir';

/**
 * What a crash (or an older version) can leave behind, and the pure decisions
 * of what counts as left over. Nothing here touches the engine or the disk.
 */
export type LeftoverKind = 'builder' | 'agent' | 'snapshot' | 'temp' | 'lock';

export interface Leftover {
  readonly kind: LeftoverKind;
  /** What removing it takes: a container id, an image id, a path. */
  readonly target: string;
  /** How people know it: a container's name, an image, a path. */
  readonly name: string;
  readonly why: string;
  /** Its owner is known to have ended: removed without asking (at start-up, before a create of its repository). */
  readonly obvious: boolean;
}

/** A temporary folder whose name carries no owner (made by an older version) is left over after this long. */
export const TEMP_STALE_MS = 10 * 60_000;

/** A container as listed: its id, name (without the engine's leading slash) and labels. */
export interface ListedContainer {
  readonly id: string;
  readonly name: string;
  readonly labels: Record<string, string> | undefined;
}

/** A file or folder as found on disk. */
export interface FoundPath {
  readonly name: string;
  readonly path: string;
  readonly mtimeMs: number;
}

function ownerOf(labels: Record<string, string> | undefined): string {
  const owner = parseOwner(labels?.[OWNER_LABEL]);
  return owner ? `pid ${owner.pid} on ${owner.host}` : 'an older gitiso';
}

/** A snapshot builder whose creator ended or whose deadline passed. */
export function builderLeftover(container: ListedContainer, world: Liveness): Leftover | undefined {
  if (container.labels?.[LABEL.agent] || !isBuilderAbandoned(container.labels, world)) {
    return undefined;
  }
  return { kind: 'builder', target: container.id, name: container.name, why: `snapshot builder abandoned by ${ownerOf(container.labels)}`, obvious: true };
}

/**
 * Whether an agent's container needs its state file read to decide: its
 * creator is gone. Those with a state file are whole; the rest are half-made.
 */
export function mayBeHalfMade(container: ListedContainer, world: Liveness): boolean {
  return Boolean(container.labels?.[LABEL.agent]) && creationAbandoned(container.labels, world);
}

export function agentLeftover(container: ListedContainer, stateFile: AgentStateFile | undefined): Leftover | undefined {
  if (stateFile) {
    return undefined;
  }
  const id = container.labels?.[LABEL.agent] ?? container.name;
  return { kind: 'agent', target: container.id, name: id, why: `${INTERRUPTED_REASON.split(' (')[0]} (made by ${ownerOf(container.labels)})`, obvious: true };
}

/** A temporary folder of gitiso's whose owner ended, or, without an owner in its name, an old one. */
export function tempLeftover(found: FoundPath, world: Liveness): Leftover | undefined {
  const parsed = parseTempName(found.name);
  if (!parsed) {
    return undefined;
  }
  if (parsed.pid !== undefined) {
    return world.isAlive(parsed.pid) ? undefined : { kind: 'temp', target: found.path, name: found.path, why: `left by pid ${parsed.pid}, which ended`, obvious: true };
  }
  const ageMs = world.now - found.mtimeMs;
  return ageMs > TEMP_STALE_MS ? { kind: 'temp', target: found.path, name: found.path, why: `left ${Math.round(ageMs / 60_000)} minutes ago by an older gitiso`, obvious: false } : undefined;
}

/** In the pool's folder: a first clone whose owner ended, a lock whose holder ended, a breaker left by a crash. `text`: a lock's content. */
export function poolEntryLeftover(found: FoundPath & { readonly text?: string }, world: Liveness): Leftover | undefined {
  if (found.name.startsWith(CLONE_TEMP_PREFIX)) {
    const pid = Number(/^(\d+)-/.exec(found.name.slice(CLONE_TEMP_PREFIX.length))?.[1]);
    return pid && !world.isAlive(pid) ? { kind: 'temp', target: found.path, name: found.path, why: `first clone interrupted (pid ${pid} ended)`, obvious: true } : undefined;
  }
  if (found.name.endsWith('.lock.break')) {
    return world.now - found.mtimeMs > 10_000 ? { kind: 'lock', target: found.path, name: found.path, why: 'lock breaker left by a crash', obvious: true } : undefined;
  }
  if (found.name.endsWith('.lock') && isStaleLock({ text: found.text, mtimeMs: found.mtimeMs }, world)) {
    return { kind: 'lock', target: found.path, name: found.path, why: 'pool lock whose holder ended', obvious: true };
  }
  return undefined;
}
