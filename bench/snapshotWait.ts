import type { Engine } from '../src/core/docker/engine';
import type { GitisoCore } from '../src/core/gitisoCore';
import { BUILDER_PREFIX, SNAPSHOT_LABEL } from '../src/core/snapshot/snapshotStore';

/**
 * Waits until a snapshot of `url` exists and its builder is gone: the first
 * agent of a repository has its snapshot built in the background, which must
 * take nothing from what a benchmark times next.
 */
export async function snapshotBuilt(engine: Engine, core: GitisoCore, url: string): Promise<void> {
  for (const deadline = Date.now() + 10 * 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const builders = (await engine.listContainers(`${SNAPSHOT_LABEL.repo}=${url}`)).filter((c) => c.Names?.some((n) => n.startsWith(`/${BUILDER_PREFIX}`)));
    if (builders.length === 0 && (await core.snapshots.list()).some((s) => s.repoUrl === url)) {
      return;
    }
  }
  throw new Error(`no snapshot of ${url} was built within 10 minutes of its first agent`);
}
