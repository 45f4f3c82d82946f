import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMissingLogin } from '../../src/core/git/missingLogin';

describe('isMissingLogin', () => {
  it('knows what git and ssh print when a remote wants a login', () => {
    for (const stderr of [
      "Cloning into '/workspace'...\nfatal: could not read Username for 'https://git.example': No such device or address\n",
      "fatal: could not read Username for 'https://git.example': terminal prompts disabled\n",
      "remote: Invalid username or password.\nfatal: Authentication failed for 'https://git.example/o/r.git/'\n",
      "fatal: unable to access 'http://10.0.0.1:8080/r.git/': The requested URL returned error: 401\n",
      'git@git.example: Permission denied (publickey).\nfatal: Could not read from remote repository.\n',
      'Host key verification failed.\nfatal: Could not read from remote repository.\n',
      "error: cannot run ssh: No such file or directory\nfatal: unable to fork\n",
    ]) {
      assert.equal(isMissingLogin(stderr), true, stderr);
    }
  });

  it('leaves other failures alone', () => {
    for (const stderr of [
      "fatal: repository 'https://git.example/o/r.git/' not found\n",
      'fatal: Remote branch nope not found in upstream origin\n',
      "fatal: unable to access 'https://git.example/': Could not resolve host: git.example\n",
      "fatal: unable to access 'http://10.0.0.1:8080/r.git/': The requested URL returned error: 500\n",
    ]) {
      assert.equal(isMissingLogin(stderr), false, stderr);
    }
  });
});
