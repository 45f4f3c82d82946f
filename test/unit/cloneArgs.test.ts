import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/core/errors';
import { cloneArgs, PROTOCOL_CONFIG } from '../../src/core/git/cloneArgs';
import { makeTempDir, removeDir } from '../support/testEnv';

const PROTOCOLS = PROTOCOL_CONFIG.flatMap((setting) => ['-c', setting]);

describe('clone arguments', () => {
  it('end the options before the URL', () => {
    assert.deepEqual(cloneArgs({ url: 'git://h/r.git', directory: '/workspace', branch: 'main', config: { 'user.name': 'A B' } }), [
      ...PROTOCOLS, 'clone', '--progress', '--branch', 'main', '--config', 'user.name=A B', '--', 'git://h/r.git', '/workspace',
    ]);
    assert.deepEqual(cloneArgs({ url: 'u', directory: 'd', depth: 1, filter: 'blob:none' }), [...PROTOCOLS, 'clone', '--progress', '--depth', '1', '--no-single-branch', '--filter=blob:none', '--', 'u', 'd']);
  });

  it('refuse a depth git would not take', () => {
    for (const depth of [-1, 1.5, Number.NaN, 2 ** 31]) {
      assert.throws(() => cloneArgs({ url: 'u', directory: 'd', depth }), InvalidInputError, String(depth));
    }
    assert.ok(!cloneArgs({ url: 'u', directory: 'd', depth: 0 }).includes('--depth'));
  });

  it('make git refuse ext:: even where its config allows it (as an agent image\'s might)', () => {
    const home = makeTempDir('clone-args');
    try {
      const config = join(home, 'gitconfig');
      writeFileSync(config, '[protocol "ext"]\n\tallow = always\n');
      const pwned = join(home, 'pwned');
      const clone = spawnSync('git', cloneArgs({ url: `ext::sh -c touch% ${pwned}`, directory: join(home, 'clone') }), { cwd: home, env: { ...process.env, GIT_CONFIG_GLOBAL: config }, encoding: 'utf8' });
      assert.notEqual(clone.status, 0);
      assert.match(clone.stderr, /transport 'ext' not allowed/);
      assert.equal(existsSync(pwned), false, 'the ext:: command ran');
    } finally {
      removeDir(home);
    }
  });
});
