import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloneProgressParser } from '../../src/core/git/cloneProgress';

describe('clone progress', () => {
  it('reads percentages from records split by \\r across chunks', () => {
    const parser = new CloneProgressParser();
    assert.deepEqual(parser.push('Cloning into \'.\'...\nremote: Counting objects:  50% (1/2)\rremote: Count'), [{ phase: 'Counting objects', percent: 50 }]);
    assert.deepEqual(parser.push('ing objects: 100% (2/2), done.\nReceiving objects:  12% (3/25)\r'), [
      { phase: 'Counting objects', percent: 100 },
      { phase: 'Receiving objects', percent: 12 },
    ]);
    assert.deepEqual(parser.push('Resolving deltas: 100% (4/4), done.\n'), [{ phase: 'Resolving deltas', percent: 100 }]);
  });
});
