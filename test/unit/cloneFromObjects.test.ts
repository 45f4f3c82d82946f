import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseNote } from '../../src/core/snapshot/cloneFromObjects';

describe('baseNote', () => {
  it('writes the base branch, commit and state file one a line', () => {
    assert.equal(baseNote({ branch: 'feature/x', commit: 'abc' }, '{"state":"ready"}'), 'feature/x\nabc\n{"state":"ready"}\n');
  });

  it('refuses a line break, which would move the lines the boot reads', () => {
    assert.throws(() => baseNote({ branch: 'main\nevil', commit: 'abc' }, '{}'), /line break/);
    assert.throws(() => baseNote({ branch: 'main', commit: 'abc' }, '{\n}'), /line break/);
  });
});
