import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionOptions } from '../../src/core/docker/connection';

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
