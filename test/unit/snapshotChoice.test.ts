import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CreatePhase } from '../../src/core/create/createRequest';
import { chooseSnapshot, sharingFinds } from '../../src/core/create/snapshotChoice';
import { MemorySnapshots, snapshotOf } from '../support/memoryEngine';

const base = { branch: 'main', commit: 'new1' };
const setup = { copy: [], key: '' };

function query(phases: CreatePhase[] = []) {
  return { repoUrl: 'git://server/repo.git', image: 'img', base, setup, report: (phase: CreatePhase) => void phases.push(phase) };
}

describe('chooseSnapshot', () => {
  it('takes the snapshot of the base commit when there is one, and builds nothing', async () => {
    const snapshots = new MemorySnapshots([snapshotOf('old0'), snapshotOf('new1')]);
    assert.equal((await chooseSnapshot(snapshots, query())).baseCommit, 'new1');
    assert.deepEqual([snapshots.built, snapshots.refreshed], [[], []]);
  });

  it('starts from an older snapshot of the same history and builds the new one in the background', async () => {
    const snapshots = new MemorySnapshots([snapshotOf('old0')]);
    const phases: CreatePhase[] = [];
    assert.equal((await chooseSnapshot(snapshots, query(phases))).baseCommit, 'old0');
    assert.deepEqual(snapshots.refreshed, ['new1']);
    assert.deepEqual(snapshots.built, []);
    assert.ok(!phases.includes('snapshot'), 'no build was reported');
  });

  it('builds the snapshot now when none fits, and says so', async () => {
    const snapshots = new MemorySnapshots();
    const phases: CreatePhase[] = [];
    assert.equal((await chooseSnapshot(snapshots, query(phases))).baseCommit, 'new1');
    assert.deepEqual(snapshots.built, ['new1']);
    assert.deepEqual(phases, ['snapshot']);
  });

  it('answers the concurrent creates of a burst with one look, and looks again after', async () => {
    const store = new MemorySnapshots([snapshotOf('new1')]);
    const snapshots = sharingFinds(store);
    const chosen = await Promise.all(Array.from({ length: 5 }, () => chooseSnapshot(snapshots, query())));
    assert.deepEqual(chosen.map((s) => s.baseCommit), Array(5).fill('new1'));
    assert.equal(store.finds, 1);
    await chooseSnapshot(snapshots, query());
    assert.equal(store.finds, 2, 'a settled look is not reused: the snapshot may be pruned or built since');
    assert.deepEqual(await snapshots.find('git://server/repo.git', 'img', 'other'), undefined, 'another commit is another look');
    assert.equal(store.finds, 3);
  });
});
