import type { ResolvedBase } from '../git/objectPool';
import type { Snapshot, SnapshotSetup, SnapshotStore } from '../snapshot/snapshotStore';
import type { ReportProgress } from './createRequest';

export interface SnapshotQuery {
  readonly repoUrl: string;
  readonly image: string;
  readonly base: ResolvedBase;
  readonly setup: SnapshotSetup;
  readonly report: ReportProgress;
  /** Stops a build this create started (when no other create waits for it). */
  readonly signal?: AbortSignal;
}

/**
 * The snapshot an agent starts from: the one of its commit; else an older one
 * of the same branch history and setup (the agent fetches only the new
 * commits, and the snapshot of the commit is built in the background); else
 * one built now (once per commit, shared by concurrent creates).
 */
export async function chooseSnapshot(snapshots: Pick<SnapshotStore, 'find' | 'findAncestor' | 'refreshInBackground' | 'ensure'>, query: SnapshotQuery): Promise<Snapshot> {
  return (await existingSnapshot(snapshots, query)) ?? buildSnapshot(snapshots, query);
}

/** The snapshot of the commit, else an older one of its history and setup (the commit's is then built in the background); undefined when there is neither. */
export async function existingSnapshot(snapshots: Pick<SnapshotStore, 'find' | 'findAncestor' | 'refreshInBackground'>, query: SnapshotQuery): Promise<Snapshot | undefined> {
  const { repoUrl, image, base, setup } = query;
  const exact = await snapshots.find(repoUrl, image, base.commit, setup.key);
  if (exact) {
    return exact;
  }
  const older = await snapshots.findAncestor(repoUrl, image, base.commit, setup.key);
  if (older) {
    snapshots.refreshInBackground({ repoUrl, baseImage: image, base, setup });
  }
  return older;
}

/** The snapshot of the commit, built now (once per commit, shared by concurrent creates). */
export function buildSnapshot(snapshots: Pick<SnapshotStore, 'ensure'>, query: SnapshotQuery): Promise<Snapshot> {
  const { repoUrl, image, base, setup } = query;
  const install = setup.install ? ` and running '${setup.install}'` : '';
  query.report('snapshot', `building the snapshot of ${base.branch} at ${base.commit.slice(0, 12)}${install} (once per commit)`);
  return snapshots.ensure({ repoUrl, baseImage: image, base, setup, signal: query.signal });
}
