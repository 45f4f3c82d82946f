import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, describe, it } from 'node:test';
import { SshTunnel } from '../../src/core/docker/sshTunnel';
import type { Logger } from '../../src/core/logger';
import { recordingLogger } from '../support/recordingLogger';
import { pings, secondEngine } from '../support/secondEngine';

/**
 * gitiso's ssh connection to an engine, against the test set-up's sshd in
 * front of the second engine: with a session that has a terminal (OpenSSH then
 * turns Nagle's algorithm off; see SESSION_COMMAND), and for an account that
 * may only forward (`restrict,port-forwarding` in authorized_keys), without one.
 */
describe('the ssh connection to an engine', () => {
  const engine = secondEngine();
  const tunnels: SshTunnel[] = [];
  const open = (host: string, log?: Logger): SshTunnel => {
    const tunnel = new SshTunnel({ host, remoteSocket: '/var/run/docker.sock' }, { configFile: engine.sshConfig, log });
    tunnels.push(tunnel);
    return tunnel;
  };

  after(() => tunnels.forEach((tunnel) => tunnel.dispose()));

  it('carries the engine\'s socket with a session of its own', async () => {
    const tunnel = open('gitiso-engine2');
    assert.equal(await pings(await tunnel.socket()), true);
    assert.equal(tunnel.carries, 'session');
  });

  it('forwards without a session when the account may only forward, and the callers never see the first refusal', async () => {
    const lines: string[] = [];
    const tunnel = open('gitiso-engine2-forwarding-only', recordingLogger(lines));
    // The first call waits through the refused session and gets the connection made without one.
    assert.equal(await pings(await tunnel.socket()), true);
    assert.equal(tunnel.carries, 'forwards only');
    assert.match(lines.join('\n'), /refused or ended the session \(exit 255: PTY allocation request failed/);
  });

  it('forwards without a session when the account\'s forced command ends the session at once', async () => {
    const lines: string[] = [];
    const tunnel = open('gitiso-engine2-forced-command', recordingLogger(lines));
    assert.equal(await pings(await tunnel.socket()), true);
    assert.equal(tunnel.carries, 'forwards only');
    assert.match(lines.join('\n'), /refused or ended the session \(exit 3\b/);
  });

  it('leaves no socket folder behind once closed', async () => {
    const tunnel = open('gitiso-engine2');
    const path = await tunnel.socket();
    tunnel.dispose();
    assert.equal(existsSync(dirname(path)), false);
  });
});
