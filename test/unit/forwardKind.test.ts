import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardKind } from '../../src/core/ports/forwardKind';

describe('forward kind: straight to the container, or through the engine', () => {
  const linux = { hostPlatform: 'linux', engineAddress: 'unix:///var/run/docker.sock', engineOperatingSystem: 'Debian GNU/Linux 12 (bookworm)' } as const;

  it('goes straight to the container on a Linux engine on this machine\'s socket', () => {
    assert.equal(forwardKind(linux), 'tcp');
    assert.equal(forwardKind({ ...linux, engineAddress: '/run/user/1000/docker.sock' }), 'tcp');
  });

  it('goes through the engine for Docker Desktop, on Linux too, and on macOS or Windows', () => {
    assert.equal(forwardKind({ ...linux, engineOperatingSystem: 'Docker Desktop' }), 'exec');
    assert.equal(forwardKind({ ...linux, hostPlatform: 'darwin', engineOperatingSystem: 'Ubuntu 22.04' }), 'exec');
    assert.equal(forwardKind({ ...linux, hostPlatform: 'win32', engineAddress: 'npipe:////./pipe/docker_engine' }), 'exec');
  });

  it('goes through the engine for any engine not on a local unix socket, loopback TCP included', () => {
    for (const engineAddress of ['tcp://10.0.0.5:2376', 'tcp://127.0.0.1:2375', 'https://engine.example:2376']) {
      assert.equal(forwardKind({ ...linux, engineAddress }), 'exec', engineAddress);
    }
  });

  it('goes through the ssh connection for an ssh:// engine, whose machine reaches its containers', () => {
    assert.equal(forwardKind({ ...linux, engineAddress: 'ssh://me@build-box' }), 'ssh');
    assert.equal(forwardKind({ ...linux, hostPlatform: 'darwin', engineAddress: 'ssh://me@build-box:2222' }), 'ssh');
  });

  it('goes through the engine for rootless Docker, whose containers neither machine reaches, local or over ssh', () => {
    assert.equal(forwardKind({ ...linux, engineAddress: 'unix:///run/user/1000/docker.sock', engineRootless: true }), 'exec');
    assert.equal(forwardKind({ ...linux, engineAddress: 'ssh://me@build-box/run/user/1000/docker.sock', engineRootless: true }), 'exec');
  });
});
