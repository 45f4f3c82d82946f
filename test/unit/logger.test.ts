import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactCredentials } from '../../src/core/logger';

describe('redactCredentials', () => {
  it('hides credentials in URLs', () => {
    assert.equal(redactCredentials('see https://x:y@host/a and ssh://git@h/b'), 'see https://***@host/a and ssh://***@h/b');
  });
});
