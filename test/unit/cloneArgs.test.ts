import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloneArgs } from '../../src/core/git/cloneArgs';

describe('clone arguments', () => {
  it('end the options before the URL', () => {
    assert.deepEqual(cloneArgs({ url: 'git://h/r.git', directory: '/workspace', branch: 'main', config: { 'user.name': 'A B' } }), [
      'clone', '--progress', '--branch', 'main', '--config', 'user.name=A B', '--', 'git://h/r.git', '/workspace',
    ]);
    assert.deepEqual(cloneArgs({ url: 'u', directory: 'd', depth: 1, filter: 'blob:none' }), ['clone', '--progress', '--depth', '1', '--no-single-branch', '--filter=blob:none', '--', 'u', 'd']);
  });
});
