import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentBaseUrl, isLocalEngine, proxyPlacement } from '../../src/core/apiProxy/proxyPlacement';

describe('API proxy placement', () => {
  it('listens on the agents\' gateway with a Linux engine on this machine', () => {
    const placement = proxyPlacement({ hostPlatform: 'linux', engineOperatingSystem: 'Debian GNU/Linux 12 (bookworm)', engineAddress: 'unix:///var/run/docker.sock', gateway: '172.30.0.1' });
    assert.deepEqual(placement, { kind: 'listen', listenHost: '172.30.0.1', agentHost: '172.30.0.1' });
    assert.equal(agentBaseUrl(placement, 41234, 'anthropic'), 'http://172.30.0.1:41234/anthropic');
  });

  it('listens on 127.0.0.1 for Docker Desktop (any platform) and engines in a VM, reached as host.docker.internal', () => {
    for (const facts of [
      { hostPlatform: 'darwin' as const, engineOperatingSystem: 'Docker Desktop', engineAddress: 'unix:///Users/me/.docker/run/docker.sock' },
      { hostPlatform: 'win32' as const, engineOperatingSystem: 'Docker Desktop', engineAddress: 'npipe:////./pipe/docker_engine' },
      { hostPlatform: 'linux' as const, engineOperatingSystem: 'Docker Desktop', engineAddress: 'unix:///home/me/.docker/desktop/docker.sock', gateway: '172.17.0.1' },
      { hostPlatform: 'darwin' as const, engineOperatingSystem: 'Ubuntu 24.04 LTS', engineAddress: 'unix:///Users/me/.colima/docker.sock' },
    ]) {
      const placement = proxyPlacement(facts);
      assert.deepEqual(placement, { kind: 'listen', listenHost: '127.0.0.1', agentHost: 'host.docker.internal' }, JSON.stringify(facts));
      assert.equal(agentBaseUrl(placement, 9, 'openai'), 'http://host.docker.internal:9/openai');
    }
  });

  it('never listens on every address: agents that could not reach it are relayed, and call 127.0.0.1 in their own container', () => {
    for (const facts of [
      { hostPlatform: 'linux' as const, engineOperatingSystem: 'Ubuntu', engineAddress: 'unix:///var/run/docker.sock' },
      { hostPlatform: 'linux' as const, engineOperatingSystem: 'Ubuntu', engineAddress: 'unix:///var/run/docker.sock', gateway: 'fd00::1' },
      { hostPlatform: 'linux' as const, engineOperatingSystem: 'Ubuntu', engineAddress: 'ssh://me@build.example', gateway: '172.30.0.1' },
      { hostPlatform: 'darwin' as const, engineOperatingSystem: 'Docker Desktop', engineAddress: 'tcp://10.0.0.5:2375' },
    ]) {
      const placement = proxyPlacement(facts);
      assert.deepEqual(placement, { kind: 'relay' }, JSON.stringify(facts));
      assert.equal(agentBaseUrl(placement, 41597, 'anthropic'), 'http://127.0.0.1:41597/anthropic');
    }
  });

  it('knows a local engine by its address', () => {
    assert.equal(isLocalEngine('unix:///var/run/docker.sock'), true);
    assert.equal(isLocalEngine('tcp://127.0.0.1:2375'), true);
    assert.equal(isLocalEngine('tcp://localhost:2375'), true);
    assert.equal(isLocalEngine('tcp://[::1]:2375'), true);
    assert.equal(isLocalEngine('tcp://192.168.1.10:2375'), false);
    assert.equal(isLocalEngine('ssh://me@localhost.example'), false);
    assert.equal(isLocalEngine('garbage'), false);
  });
});
