import type { Snapshot } from './snapshotStore';

/** The fields that make snapshots replace each other: one line of history with one setup, on one image. */
export type SnapshotFamily = Pick<Snapshot, 'baseImageId' | 'repoUrl' | 'baseBranch' | 'setupKey'>;

/**
 * Snapshots that replace each other as a base branch moves on. Another
 * branch, or another setup (install command, lockfiles), is another family:
 * the newest of `feature` says nothing about whether `main`'s is still wanted.
 */
export function familyOf(snapshot: SnapshotFamily): string {
  // JSON keeps the fields apart whatever they contain.
  return JSON.stringify([snapshot.baseImageId, snapshot.repoUrl, snapshot.baseBranch, snapshot.setupKey]);
}

export interface PruneInput<T extends { readonly id: string; readonly snapshot: Snapshot }> {
  readonly snapshots: readonly T[];
  /** Image ids and names containers use. */
  readonly inUse: ReadonlySet<string>;
  readonly now: number;
  readonly graceMs: number;
}

/**
 * The snapshots to remove: those no container uses that are superseded (a
 * newer one of their family exists) or older than `graceMs`.
 */
export function snapshotsToPrune<T extends { readonly id: string; readonly snapshot: Snapshot }>(input: PruneInput<T>): T[] {
  const { snapshots, inUse, now, graceMs } = input;
  const newest = new Map<string, number>();
  for (const { snapshot } of snapshots) {
    const family = familyOf(snapshot);
    newest.set(family, Math.max(newest.get(family) ?? 0, snapshot.createdAt.getTime()));
  }
  return snapshots.filter(({ id, snapshot }) => {
    const created = snapshot.createdAt.getTime();
    const superseded = created < (newest.get(familyOf(snapshot)) ?? 0);
    const expired = now - created >= graceMs;
    return !inUse.has(id) && !inUse.has(snapshot.image) && (superseded || expired);
  });
}
