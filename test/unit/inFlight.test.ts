import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlight } from '../../src/core/base/inFlight';

describe('InFlight', () => {
  it('runs one read for the callers of a key that ask while it runs, and again once it settled', async () => {
    const reads = new InFlight<number>();
    let runs = 0;
    let finish: (value: number) => void = () => undefined;
    const read = (): Promise<number> => {
      runs++;
      return new Promise((resolve) => (finish = resolve));
    };
    const together = Promise.all([reads.share('k', read), reads.share('k', read)]);
    finish(1);
    assert.deepEqual(await together, [1, 1]);
    assert.equal(runs, 1);
    const later = reads.share('k', read);
    finish(2);
    assert.equal(await later, 2);
    assert.equal(runs, 2, 'a settled read is not reused');
  });

  it('keeps keys apart, and gives every caller of a failed read its error', async () => {
    const reads = new InFlight<string>();
    const [a, b] = await Promise.all([reads.share('a', async () => 'A'), reads.share('b', async () => 'B')]);
    assert.deepEqual([a, b], ['A', 'B']);
    const failing = async (): Promise<string> => {
      throw new Error('no');
    };
    const outcomes = await Promise.allSettled([reads.share('c', failing), reads.share('c', failing)]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
    assert.equal(await reads.share('c', async () => 'again'), 'again', 'a failure is not remembered');
  });
});
