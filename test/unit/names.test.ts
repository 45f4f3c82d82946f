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

  it('never put terminal escapes from a bad id into the message', () => {
    // eslint-disable-next-line no-control-regex
    assert.throws(() => validateAgentId('\x1b]0;owned\x07'), (error: Error) => !/[\x00-\x1f]/.test(error.message) && error.message.includes('\\u001b'));
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

  it('refuse remote helper transports: ext:: runs a command, fd:: and the others are not git hosting', () => {
    for (const url of ['ext::sh -c touch% /tmp/pwned', 'ext::touch', 'ext::/tmp/evil%S', 'fd::3', 'FD::3,4', 'hg::https://example.com/r', 'codecommit::us-east-1://r', 'x+y.z::anything']) {
      assert.throws(() => validateRepoUrl(url), /transport, which gitiso does not allow/, url);
    }
    assert.throws(() => validateRepoUrl('ext::touch'), /'ext::' transport/);
  });

  it('refuse credentials in every form', () => {
    for (const url of ['user:password@example.com:team/r.git', 'git:tok@example.com:r.git', 'ssh://git:secret@example.com/r.git', 'ssh://git:@example.com/r.git', 'http://tok@example.com/r.git', 'git://u:p@example.com/r.git']) {
      assert.throws(() => validateRepoUrl(url), /carries credentials/, url);
    }
    // A user name is fine where it is ssh's login, and a port is no password.
    for (const url of ['ssh://git@example.com:2222/r.git', 'git@example.com:team/r@v1.git', 'http://example.com:8080/r.git']) {
      assert.equal(validateRepoUrl(url), url);
    }
  });

  it('refuse control characters (encoded too), hosts that read as options, and huge URLs', () => {
    for (const url of ['https://example.com/r%0a.git', 'https://example.com/r%00', 'https://example.com/\x7fr', 'https://example.com/r\tx', 'ssh://-oProxyCommand=touch%20x/r', 'git@-oProxyCommand=x:r', 'a b:c', `https://example.com/${'r'.repeat(3000)}`]) {
      assert.throws(() => validateRepoUrl(url), InvalidInputError, JSON.stringify(url));
    }
  });
});
