import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/core/errors';
import { refNameProblem, sessionBranchFor, validateAgentId, validateBranchName, validateRepoUrl } from '../../src/core/names';

function gitAccepts(branch: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', branch], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('agent ids', () => {
  it('accepts ids that name both a container and a branch', () => {
    for (const id of ['a1', 'agent-7', 'Fix_login.2', '0']) {
      assert.equal(validateAgentId(id), id);
      assert.equal(sessionBranchFor(id), `gitiso/${id}`);
    }
  });

  it('rejects ids Docker or git would refuse', () => {
    for (const id of ['', 'bad id', '-x', '.x', 'x/y', 'a..b', 'x.lock', 'x.', 'é', 'a'.repeat(64)]) {
      assert.throws(() => validateAgentId(id), InvalidInputError, id);
    }
  });
});

describe('branch names', () => {
  const samples = ['main', 'feature/x', 'release-1.2', 'a..b', 'x.lock', '-x', 'x/', '/x', 'a//b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', 'a@{1}', '.hidden', 'x/.y', 'x.', 'ok@x'];

  it('agree with git check-ref-format --branch', () => {
    for (const name of samples) {
      assert.equal(refNameProblem(name) === undefined, gitAccepts(name), `disagree on ${JSON.stringify(name)}`);
    }
  });

  it('refuse "@", which git reads as HEAD', () => {
    assert.throws(() => validateBranchName('@'), InvalidInputError);
  });

  it('say what is wrong', () => {
    assert.throws(() => validateBranchName('a..b'), /'a\.\.b' is not a valid branch name: it contains "\.\."/);
  });
});

describe('repository URLs', () => {
  it('accepts the forms git clones from', () => {
    for (const url of ['https://example.com/r.git', 'git://10.0.0.2/r.git', 'ssh://git@example.com/r.git', 'git@example.com:team/r.git', 'file:///srv/r.git', '/srv/r.git']) {
      assert.equal(validateRepoUrl(url), url);
    }
  });

  it('refuses credentials, options and junk', () => {
    assert.throws(() => validateRepoUrl('https://user:tok@example.com/r.git'), /carries credentials/);
    assert.throws(() => validateRepoUrl('https://ghp_abc@example.com/r.git'), /carries credentials/);
    assert.throws(() => validateRepoUrl('--upload-pack=touch /tmp/x'), /starts with "-"/);
    assert.throws(() => validateRepoUrl('ftp://example.com/r'), /scheme 'ftp'/);
    assert.throws(() => validateRepoUrl('not a url'), InvalidInputError);
    assert.throws(() => validateRepoUrl(''), /empty/);
  });
});
