import { describeCause } from '../errors';
import type { ObjectPool, ResolvedBase } from '../git/objectPool';
import { redactCredentials, type Logger } from '../logger';
import type { ReportProgress } from './createRequest';

export interface BaseQuery {
  readonly repoUrl: string;
  /** '' for the remote's default branch. */
  readonly baseBranch: string;
  readonly report: ReportProgress;
  /** Stops the fetch (when no other create waits for it). */
  readonly signal?: AbortSignal;
}

/** Brings the host's mirror up to date and reads the base branch's commit from it. */
export async function fetchBase(pool: Pick<ObjectPool, 'sync' | 'resolve'>, query: BaseQuery): Promise<ResolvedBase> {
  query.report('fetching', `fetching ${redactCredentials(query.repoUrl)} into the pool`);
  await pool.sync(query.repoUrl, query.signal);
  return pool.resolve(query.repoUrl, query.baseBranch || undefined);
}

/** Where an agent starts without waiting for the remote: what the pool knows now, and what its fetch (running meanwhile) will say. */
export interface StartingPoint {
  readonly base: ResolvedBase;
  /** Present when `base` came from the pool's copy: the fetched base, which may have moved on. */
  readonly latest?: Promise<ResolvedBase>;
}

/** A repository the pool has never seen: its first clone, begun, and the base in it. */
export interface UnseenRepository {
  readonly fetching: Promise<ResolvedBase>;
}

/**
 * The snapshot strategy starts from what the pool already knows while the
 * pool fetches: the agent catches up on what the fetch brings before it is
 * ready. For a repository the pool has never seen, the fetch (its first clone)
 * is returned, begun, for the caller to do what it can meanwhile.
 */
export async function startingPoint(pool: Pick<ObjectPool, 'sync' | 'resolve' | 'resolveKnown'>, log: Logger, query: BaseQuery): Promise<StartingPoint | UnseenRepository> {
  const fetched = fetchBase(pool, query);
  fetched.catch(() => undefined); // awaited through `latest` or by the caller; must not go unobserved meanwhile
  const known = await pool.resolveKnown(query.repoUrl, query.baseBranch || undefined);
  return known ? { base: known, latest: latestBase(log, known, fetched) } : { fetching: fetched };
}

/** What the fetch says the base is; if the fetch fails, the pool's copy, with a warning: work goes on offline. */
async function latestBase(log: Logger, known: ResolvedBase, fetched: Promise<ResolvedBase>): Promise<ResolvedBase> {
  try {
    return await fetched;
  } catch (error) {
    log.warn(`${describeCause(error)}; starting from the pool's copy at ${known.commit.slice(0, 12)}`);
    return known;
  }
}
