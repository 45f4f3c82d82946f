import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gitFailure } from '../../src/core/git/gitFailure';
import { connectionOptions } from '../../src/core/docker/connection';
import { PullProgress } from '../../src/core/docker/pullProgress';
import { cloneArgs } from '../../src/core/git/cloneArgs';
import { CloneProgressParser } from '../../src/core/git/cloneProgress';
import { redactCredentials } from '../../src/core/logger';

describe('clone progress', () => {
  it('reads percentages from records split by \\r across chunks', () => {
    const parser = new CloneProgressParser();
    assert.deepEqual(parser.push('Cloning into \'.\'...\nremote: Counting objects:  50% (1/2)\rremote: Count'), [{ phase: 'Counting objects', percent: 50 }]);
    assert.deepEqual(parser.push('ing objects: 100% (2/2), done.\nReceiving objects:  12% (3/25)\r'), [
      { phase: 'Counting objects', percent: 100 },
      { phase: 'Receiving objects', percent: 12 },
    ]);
    assert.deepEqual(parser.push('Resolving deltas: 100% (4/4), done.\n'), [{ phase: 'Resolving deltas', percent: 100 }]);
  });
});

describe('clone arguments', () => {
  it('end the options before the URL', () => {
    assert.deepEqual(cloneArgs({ url: 'git://h/r.git', directory: '/workspace', branch: 'main', config: { 'user.name': 'A B' } }), [
      'clone', '--progress', '--branch', 'main', '--config', 'user.name=A B', '--', 'git://h/r.git', '/workspace',
    ]);
    assert.deepEqual(cloneArgs({ url: 'u', directory: 'd', depth: 1, filter: 'blob:none' }), ['clone', '--progress', '--depth', '1', '--no-single-branch', '--filter=blob:none', '--', 'u', 'd']);
  });
});

describe('pull progress', () => {
  it('sums layer sizes into one percentage', () => {
    const progress = new PullProgress();
    assert.equal(progress.add({ status: 'Pulling from library/x', id: 'latest' }), undefined);
    progress.add({ id: 'l1', status: 'Downloading', progressDetail: { current: 50, total: 100 } });
    assert.equal(progress.add({ id: 'l2', status: 'Downloading', progressDetail: { current: 0, total: 300 } }), 12);
    assert.equal(progress.add({ id: 'l1', status: 'Download complete' }), 25);
    assert.equal(progress.add({ id: 'l2', status: 'Pull complete' }), 100);
  });
});

describe('docker host', () => {
  it('maps each address form to dockerode options', () => {
    assert.deepEqual(connectionOptions('', {}).options, { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(connectionOptions(undefined, { DOCKER_HOST: 'unix:///run/d.sock' }).options, { socketPath: '/run/d.sock' });
    assert.deepEqual(connectionOptions('tcp://10.1.2.3:2375', {}).options, { host: '10.1.2.3', port: '2375', protocol: 'http' });
    const ssh = connectionOptions('ssh://me@build-box', { SSH_AUTH_SOCK: '/tmp/agent' }).options;
    assert.deepEqual(ssh, { protocol: 'ssh', host: 'build-box', port: 22, username: 'me', sshOptions: { agent: '/tmp/agent' } });
    assert.throws(() => connectionOptions('ftp://x', {}), /not supported/);
  });
});

describe('messages', () => {
  it('take git\'s reason and hide credentials', () => {
    assert.equal(gitFailure("Cloning into '.'...\nfatal: repository 'https://u:p@h/r.git/' not found\n"), "repository 'https://***@h/r.git/' not found");
    assert.equal(redactCredentials('see https://x:y@host/a and ssh://git@h/b'), 'see https://***@host/a and ssh://***@h/b');
  });
});
