import { InFlight } from '../base/inFlight';
import type { ResolvedBase } from '../git/objectPool';
import type { Snapshot, SnapshotSetup, SnapshotStore } from '../snapshot/snapshotStore';
import type { ReportProgress } from './createRequest';

/** What choosing a snapshot asks of the store. */
export type SnapshotLookups = Pick<SnapshotStore, 'find' | 'findAncestor' | 'refreshInBackground' | 'ensure'>;

/** The store, with concurrent finds of one snapshot answered by one look: the creates of a burst all look for the same one at once. */
export function sharingFinds(snapshots: SnapshotLookups): SnapshotLookups {
  const finding = new InFlight<Snapshot | undefined>();
  return {
    find: (repoUrl, baseImage, commit, setupKey = '') => finding.share([repoUrl, baseImage, commit, setupKey].join('\0'), () => snapshots.find(repoUrl, baseImage, commit, setupKey)),
    findAncestor: (repoUrl, baseImage, commit, setupKey) => snapshots.findAncestor(repoUrl, baseImage, commit, setupKey),
    refreshInBackground: (request) => snapshots.refreshInBackground(request),
    ensure: (request) => snapshots.ensure(request),
  };
}

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
export async function chooseSnapshot(snapshots: SnapshotLookups, query: SnapshotQuery): Promise<Snapshot> {
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
  const installs = [setup.install && `running '${setup.install}'`, setup.tool && `installing the coding agent '${setup.tool.preset}'`].filter(Boolean);
  const install = installs.length > 0 ? ` and ${installs.join(' and ')}` : '';
  query.report('snapshot', `building the snapshot of ${base.branch} at ${base.commit.slice(0, 12)}${install} (once per commit)`);
  return snapshots.ensure({ repoUrl, baseImage: image, base, setup, signal: query.signal });
}
