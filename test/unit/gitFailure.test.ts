import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gitFailure } from '../../src/core/git/gitFailure';

describe('gitFailure', () => {
  it('takes git\'s reason and hides credentials', () => {
    assert.equal(gitFailure("Cloning into '.'...\nfatal: repository 'https://u:p@h/r.git/' not found\n"), "repository 'https://***@h/r.git/' not found");
  });
});
