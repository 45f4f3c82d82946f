import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionOptions } from '../../src/core/docker/connection';
import { sshDestination } from '../../src/core/docker/sshTunnel';

describe('docker host', () => {
  it('maps each address form to dockerode options', () => {
    assert.deepEqual(connectionOptions({ host: '' }, {}).options, { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(connectionOptions({}, { DOCKER_HOST: 'unix:///run/d.sock' }).options, { socketPath: '/run/d.sock' });
    assert.deepEqual(connectionOptions({ host: 'tcp://10.1.2.3:2375' }, {}).options, { host: '10.1.2.3', port: '2375', protocol: 'http' });
    assert.throws(() => connectionOptions({ host: 'ftp://x' }, {}), /not supported/);
  });

  it('reaches an ssh:// engine through a socket here that the system ssh forwards (no HTTP agent: VS Code replaces those)', () => {
    const { options, tunnel } = connectionOptions({ host: 'ssh://me@build-box:2222' }, {});
    try {
      assert.ok(tunnel, 'an ssh engine has a tunnel to dispose of');
      assert.equal(typeof options.socketPath, 'function');
      assert.equal((options as { agent?: unknown }).agent, undefined);
      assert.match(tunnel.socketPath, /gitiso-ssh-.*engine\.sock$/);
    } finally {
      tunnel?.dispose();
    }
  });

  it('reads the ssh destination, with the engine socket from the path (rootless Docker) or the default', () => {
    assert.deepEqual(sshDestination(new URL('ssh://me@build-box:2222')), { host: 'build-box', user: 'me', port: 2222, remoteSocket: '/var/run/docker.sock' });
    assert.deepEqual(sshDestination(new URL('ssh://box/run/user/1000/docker.sock')), { host: 'box', user: undefined, port: undefined, remoteSocket: '/run/user/1000/docker.sock' });
  });

  it('refuses an ssh host or user that ssh would read as an option (attacker: -oProxyCommand=…)', () => {
    assert.throws(() => connectionOptions({ host: 'ssh://-oProxyCommand=touch%20x@box' }, {}), /may not start with '-'/);
    assert.throws(() => connectionOptions({ host: 'ssh://me@-oProxyCommand=x' }, {}), /may not start with '-'|not a URL/);
  });

  it('uses the TLS files an engine names', () => {
    assert.throws(() => connectionOptions({ host: 'tcp://box:2376', tls: { ca: '/nonexistent/ca.pem' } }, {}), /ENOENT/);
  });
});
