import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PullProgress } from '../../src/core/docker/pullProgress';

describe('pull progress', () => {
  it('sums layer sizes into one percentage', () => {
    const progress = new PullProgress();
    assert.equal(progress.add({ status: 'Pulling from library/x', id: 'latest' }), undefined);
    progress.add({ id: 'l1', status: 'Downloading', progressDetail: { current: 50, total: 100 } });
    assert.equal(progress.add({ id: 'l2', status: 'Downloading', progressDetail: { current: 0, total: 300 } }), 12);
    assert.equal(progress.add({ id: 'l1', status: 'Download complete' }), 25);
    assert.equal(progress.add({ id: 'l2', status: 'Pull complete' }), 100);
  });
});
