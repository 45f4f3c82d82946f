import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelChange } from '../../src/core/docker/dockerfileLabel';
import { InvalidInputError } from '../../src/core/errors';

describe('LABEL changes of a commit', () => {
  it('escape what Dockerfile would expand or end: $, ", \\', () => {
    assert.equal(labelChange('gitiso.setup-error', 'at $HOME ${PATH:-x} "q" \\ `id`'), 'LABEL gitiso.setup-error="at \\$HOME \\${PATH:-x} \\"q\\" \\\\ `id`"');
  });

  it('keep the value on one line: a line break would start an instruction of its own', () => {
    assert.equal(labelChange('k', 'a\nCMD ["evil"]\r\tb'), 'LABEL k="a CMD [\\"evil\\"]  b"');
  });

  it('refuse keys that are not plain names', () => {
    for (const key of ['', 'a b', 'a=b', '$X', '-a']) {
      assert.throws(() => labelChange(key, 'v'), InvalidInputError, key);
    }
  });
});
