import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setupAt } from '../../src/core/create/repoSetupSteps';
import { InvalidInputError } from '../../src/core/errors';
import { ObjectPool } from '../../src/core/git/objectPool';
import { refuseSetup } from '../../src/core/setup/setupProposal';
import { git, makeTempDir, removeDir } from '../support/testEnv';

describe('the object pool and untrusted input (host git, no engine)', () => {
  let home: string;
  let repo: string;
  const userConfig = process.env.GIT_CONFIG_GLOBAL;
  before(() => {
    home = makeTempDir('pool-test');
    // A user whose git config trusts ext:: (as some do for their own helpers): the pool must not.
    const config = join(home, 'gitconfig');
    writeFileSync(config, '[protocol "ext"]\n\tallow = always\n[protocol "fd"]\n\tallow = always\n');
    process.env.GIT_CONFIG_GLOBAL = config;
    repo = join(home, 'repo');
    git(home, 'init', '-q', '-b', 'main', repo);
    writeFileSync(join(repo, 'README.md'), '# r\n');
    // Valid JSON, but no setup file is this big: the host must not read it whole.
    writeFileSync(join(repo, '.gitiso.json'), JSON.stringify({ install: 'npm ci', padding: 'x'.repeat(1024 ** 2) }));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'first');
  });
  after(() => {
    if (userConfig === undefined) {
      delete process.env.GIT_CONFIG_GLOBAL;
    } else {
      process.env.GIT_CONFIG_GLOBAL = userConfig;
    }
    removeDir(home);
  });

  it('never lets git run an ext:: command, whatever the user config allows', async () => {
    const pwned = join(home, 'pwned');
    const pool = new ObjectPool(join(home, 'store'));
    await assert.rejects(pool.sync(`ext::sh -c touch% ${pwned}`), /could not fetch/);
    assert.equal(existsSync(pwned), false, 'the ext:: command ran on the host');
  });

  it('still mirrors the allowed transports (a local path here)', async () => {
    const pool = new ObjectPool(join(home, 'store'));
    await pool.sync(repo);
    assert.equal((await pool.resolve(repo)).branch, 'main');
    assert.equal(await pool.readFile(repo, 'main', 'README.md'), '# r\n');
    assert.equal(await pool.readFile(repo, 'main', 'missing.txt', 10), undefined);
  });

  it('refuses a huge setup file before reading it', async () => {
    const pool = new ObjectPool(join(home, 'store'));
    await pool.sync(repo);
    await assert.rejects(pool.readFile(repo, 'main', 'README.md', 2), (error: Error) => error instanceof InvalidInputError && /README\.md at main is 4 bytes, more than the 2 gitiso reads/.test(error.message));
    await assert.rejects(setupAt(pool, { repoUrl: repo, settings: {}, consent: refuseSetup }, 'main'), /\.gitiso\.json at main is \d+ bytes, more than the 65536 gitiso reads/);
  });
});
