import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/docker/engine';
import type { ObjectPool } from '../../src/core/git/objectPool';
import { familyOf, snapshotsToPrune } from '../../src/core/snapshot/pruneChoice';
import { SNAPSHOT_LABEL, SnapshotStore, type Snapshot } from '../../src/core/snapshot/snapshotStore';
import { silentLogger } from '../../src/core/logger';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse('2025-01-10T00:00:00Z');

function snapshot(key: string, fields: Partial<Snapshot> & { readonly ageDays: number }): Snapshot {
  const { ageDays, ...rest } = fields;
  return { key, image: `gitiso-snapshot:${key}`, repoUrl: 'git://h/r.git', baseBranch: 'main', baseCommit: key, baseImageId: 'sha256:img', createdAt: new Date(NOW - ageDays * DAY), setupKey: '', ...rest };
}

const entries = (...snapshots: Snapshot[]) => snapshots.map((s) => ({ id: `id-${s.key}`, snapshot: s }));
const keys = (chosen: readonly { snapshot: Snapshot }[]) => chosen.map((c) => c.snapshot.key).sort();

describe('which snapshots pruning removes', () => {
  it('removes the older snapshot of the same branch and setup, keeps the newest within the grace period', () => {
    const chosen = snapshotsToPrune({ snapshots: entries(snapshot('old', { ageDays: 2 }), snapshot('new', { ageDays: 1 })), inUse: new Set(), now: NOW, graceMs: 7 * DAY });
    assert.deepEqual(keys(chosen), ['old']);
  });

  it('does not let another branch or another setup supersede a snapshot', () => {
    const main = snapshot('main', { ageDays: 2 });
    const feature = snapshot('feature', { ageDays: 1, baseBranch: 'feature' });
    const otherSetup = snapshot('npm', { ageDays: 1, setupKey: 'abc123' });
    assert.deepEqual(snapshotsToPrune({ snapshots: entries(main, feature, otherSetup), inUse: new Set(), now: NOW, graceMs: 7 * DAY }), []);
    assert.notEqual(familyOf(main), familyOf(feature));
    assert.notEqual(familyOf(main), familyOf(otherSetup));
  });

  it('removes what is past the grace period, and never what a container uses', () => {
    const old = snapshot('old', { ageDays: 9 });
    const used = snapshot('used', { ageDays: 9, baseBranch: 'b' });
    const usedByName = snapshot('named', { ageDays: 9, baseBranch: 'c' });
    const chosen = snapshotsToPrune({ snapshots: entries(old, used, usedByName), inUse: new Set(['id-used', usedByName.image]), now: NOW, graceMs: 7 * DAY });
    assert.deepEqual(keys(chosen), ['old']);
  });

  it('keeps fields apart in the family (no join that two values could fake)', () => {
    assert.notEqual(familyOf(snapshot('a', { ageDays: 0, repoUrl: 'x y', baseBranch: 'z' })), familyOf(snapshot('b', { ageDays: 0, repoUrl: 'x', baseBranch: 'y z' })));
  });
});

describe('SnapshotStore.prune', () => {
  it('keeps main\'s unused snapshot when a newer one of feature exists', async () => {
    const created = (ageDays: number) => new Date(Date.now() - ageDays * DAY).toISOString();
    const labels = (key: string, branch: string, ageDays: number) => ({
      [SNAPSHOT_LABEL.key]: key,
      [SNAPSHOT_LABEL.repo]: 'git://h/r.git',
      [SNAPSHOT_LABEL.baseBranch]: branch,
      [SNAPSHOT_LABEL.baseCommit]: key,
      [SNAPSHOT_LABEL.baseImage]: 'sha256:img',
      [SNAPSHOT_LABEL.setupKey]: '',
      [SNAPSHOT_LABEL.created]: created(ageDays),
    });
    const removed: string[] = [];
    const engine = {
      listContainers: async () => [],
      listImages: async () => [
        { Id: 'id-main', RepoTags: ['gitiso-snapshot:main'], Labels: labels('main', 'main', 2) },
        { Id: 'id-feature', RepoTags: ['gitiso-snapshot:feature'], Labels: labels('feature', 'feature', 1) },
      ],
      removeImage: async (id: string) => void removed.push(id),
    } as unknown as Engine;
    const store = new SnapshotStore({ engine, pool: {} as ObjectPool, log: silentLogger, network: { resolve: async () => 'unused' } });
    assert.deepEqual(await store.prune(7 * DAY), []);
    assert.deepEqual(removed, []);
  });
});
