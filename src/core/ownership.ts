import { hostname } from 'node:os';

/**
 * Who made a container, an image, a lock or a temporary folder: the host and
 * the pid of the gitiso process. A crash (kill -9) runs no clean-up, so what it
 * left is recognised afterwards by an owner that no longer runs.
 */
export const OWNER_LABEL = 'gitiso.owner';

export interface Owner {
  readonly pid: number;
  readonly host: string;
}

/** This process, as an owner. */
export function currentOwner(): Owner {
  return { pid: process.pid, host: hostname() };
}

/** `pid@host`: what the owner label and lock files hold. */
export function formatOwner(owner: Owner = currentOwner()): string {
  return `${owner.pid}@${owner.host}`;
}

export function parseOwner(text: string | undefined): Owner | undefined {
  const match = /^(\d+)@(.+)$/.exec(text?.trim() ?? '');
  return match ? { pid: Number(match[1]), host: match[2] as string } : undefined;
}

/** Whether a process of this host runs (EPERM: it does, as another user). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What deciding about an owner needs to know of the world: injected, so the decision is pure. */
export interface Liveness {
  readonly host: string;
  readonly now: number;
  readonly isAlive: (pid: number) => boolean;
}

export function liveness(): Liveness {
  return { host: hostname(), now: Date.now(), isAlive: isPidAlive };
}

/**
 * Whether what an owner made is abandoned: its owner is a process of this host
 * that has ended, or it is older than `staleAfterMs` (an owner on another
 * host, or none recorded, cannot be asked; time is the only witness).
 */
export function isAbandoned(thing: { readonly owner?: Owner; readonly since: number; readonly staleAfterMs: number }, world: Liveness): boolean {
  const { owner, since, staleAfterMs } = thing;
  if (owner && owner.host === world.host && !world.isAlive(owner.pid)) {
    return true;
  }
  return world.now - since > staleAfterMs;
}
