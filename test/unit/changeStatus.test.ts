import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseName, countsOf, filesChanged } from '../../src/vscode/review/changeStatus';

describe('how a change reads', () => {
  it('counts lines, or says binary when git counted none', () => {
    assert.equal(countsOf({ path: 'a', status: 'modified', added: 3, removed: 1 }), '+3 −1');
    assert.equal(countsOf({ path: 'a', status: 'added', added: 0, removed: 0 }), '+0 −0');
    assert.equal(countsOf({ path: 'img.png', status: 'added' }), 'binary');
  });

  it('names the base by its branch, else its short commit', () => {
    assert.equal(baseName('main', 'a'.repeat(40)), 'main');
    assert.equal(baseName('', 'a'.repeat(40)), 'a'.repeat(12));
    assert.equal(filesChanged(1), '1 file changed');
    assert.equal(filesChanged(50), '50 files changed');
  });
});
