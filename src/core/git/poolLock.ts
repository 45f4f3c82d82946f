import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { abortError } from '../base/abort';
import { PoolError } from '../errors';
import { formatOwner, isAbandoned, liveness, parseOwner, type Liveness } from '../ownership';

/** A lock file with no readable owner (a crash between its creation and its first write) is stale after this long. */
const TORN_AFTER_MS = 10_000;
/** A lock of another host's process (a pool on a shared disk) cannot be checked: it is stale after this long. */
const FOREIGN_AFTER_MS = 60 * 60_000;
const POLL_MS = 100;

/** What a lock file holds: its owner (`pid@host`) and a token that tells this holder from a later one of the same pid. */
export interface LockContent {
  readonly owner: string;
  readonly token: string;
}

/** Whether a lock file is stale: its owner has ended (or cannot be read, or cannot be asked and the lock is old). Pure. */
export function isStaleLock(lock: { readonly text: string | undefined; readonly mtimeMs: number }, world: Liveness): boolean {
  const owner = parseOwner(parseContent(lock.text)?.owner);
  if (!owner) {
    return world.now - lock.mtimeMs > TORN_AFTER_MS;
  }
  return isAbandoned({ owner, since: lock.mtimeMs, staleAfterMs: owner.host === world.host ? Number.POSITIVE_INFINITY : FOREIGN_AFTER_MS }, world);
}

function parseContent(text: string | undefined): LockContent | undefined {
  try {
    const value = JSON.parse(text ?? '') as Partial<LockContent>;
    return typeof value.owner === 'string' && typeof value.token === 'string' ? (value as LockContent) : undefined;
  } catch {
    return undefined;
  }
}

/** The file's text and age; undefined when it does not exist. */
export function readLock(path: string): { text: string; mtimeMs: number } | undefined {
  try {
    return { mtimeMs: statSync(path).mtimeMs, text: readFileSync(path, 'utf8') };
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock between processes, as a file made with O_EXCL that names
 * its owner. A lock whose owner has ended is broken, under a second short
 * lock, so that two processes that find it stale at once do not both take it.
 */
export class PoolLock {
  private constructor(
    private readonly path: string,
    private readonly token: string,
  ) {}

  /** Waits for the lock (cancellable; at most `maxWaitMs` while a live process holds it). */
  static async acquire(path: string, options: { readonly signal?: AbortSignal; readonly maxWaitMs: number; readonly what: string }): Promise<PoolLock> {
    const token = randomBytes(8).toString('hex');
    const content = JSON.stringify({ owner: formatOwner(), token } satisfies LockContent);
    const deadline = Date.now() + options.maxWaitMs;
    for (;;) {
      if (tryCreate(path, content)) {
        return new PoolLock(path, token);
      }
      breakIfStale(path);
      if (options.signal?.aborted) {
        throw abortError(options.signal, options.what);
      }
      if (Date.now() > deadline) {
        const holder = parseContent(readLock(path)?.text)?.owner ?? 'another process';
        throw new PoolError(`${options.what}: ${holder} has held ${path} for too long; wait for it to end, or run 'gitiso doctor --fix' if it hangs`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Removes the file if it is still this holder's (never a lock someone took over). */
  release(): void {
    if (parseContent(readLock(this.path)?.text)?.token === this.token) {
      try {
        unlinkSync(this.path);
      } catch {
        // gone already
      }
    }
  }
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes the lock at `path` if it is stale, under `path.break` so that only one process decides. */
function breakIfStale(path: string): void {
  const seen = readLock(path);
  if (!seen || !isStaleLock(seen, liveness())) {
    return;
  }
  const breaker = `${path}.break`;
  const breakerLock = readLock(breaker);
  if (breakerLock && Date.now() - breakerLock.mtimeMs > TORN_AFTER_MS) {
    // Its holder crashed inside the few lines below.
    tryUnlink(breaker);
  }
  if (!tryCreate(breaker, formatOwner())) {
    return;
  }
  try {
    // Checked again under the breaker: another process may have broken it and taken it since.
    const now = readLock(path);
    if (now && now.text === seen.text && isStaleLock(now, liveness())) {
      tryUnlink(path);
    }
  } finally {
    tryUnlink(breaker);
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}
