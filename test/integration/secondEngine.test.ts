import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pings, secondEngine, socketGet, startSecondDockerd, stopSecondDockerd, type SecondEngine } from '../support/secondEngine';
import { Engine } from '../../src/core/docker/engine';
import { containerAddress } from '../../src/core/docker/containerAddress';
import { gitisoBridgeName } from '../../src/core/network/networkSetting';
import { httpGet } from '../support/http';
import { ensureNetwork, makeTempDir, removeDir, TEST_LABEL, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

/** The engine's DockerRootDir, from `GET /info` on its socket. */
async function rootDir(socketPath: string): Promise<string> {
  const answer = await socketGet(socketPath, '/info');
  assert.equal(answer.status, 200, answer.body);
  return (JSON.parse(answer.body) as { DockerRootDir: string }).DockerRootDir;
}

/** The tunnel as gitiso makes it: the system ssh, batch mode, one key, one known_hosts file, a unix socket forwarded to the engine's. */
function tunnel(engine: SecondEngine, files: { readonly key: string; readonly knownHosts: string }, localSocket: string): ChildProcess {
  const url = new URL(engine.sshHost);
  return spawn('ssh', [
    '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', files.key,
    '-o', `UserKnownHostsFile=${files.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ExitOnForwardFailure=yes',
    '-F', '/dev/null', '-p', url.port, `${url.username}@${url.hostname}`,
    '-N', '-L', `${localSocket}:/var/run/docker.sock`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Until ssh exits: its code and what it said. */
function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('the second engine (test infrastructure)', () => {
  let engine: SecondEngine;
  let dir: string;
  const children: ChildProcess[] = [];

  before(() => {
    engine = secondEngine();
    dir = makeTempDir('engine2');
  });

  after(() => {
    for (const child of children) {
      child.kill();
    }
    removeDir(dir);
  });

  it('answers on its own socket, with a data root of its own', async () => {
    assert.equal(await pings(engine.socketPath), true);
    assert.equal(await rootDir(engine.socketPath), '/var/lib/gitiso-engine2');
    assert.notEqual(await rootDir('/var/run/docker.sock'), '/var/lib/gitiso-engine2');
  });

  /** A tunnel as gitiso makes one, open until `use` is done. */
  async function throughTunnel(name: string, use: (socketPath: string) => Promise<void>): Promise<void> {
    const local = join(dir, `${name}.sock`);
    const ssh = tunnel(engine, { key: engine.sshKey, knownHosts: engine.sshKnownHosts }, local);
    children.push(ssh);
    const end = exited(ssh);
    await waitFor('the tunnel\'s local socket', () => existsSync(local) || ssh.exitCode !== null, 15_000);
    assert.equal(ssh.exitCode, null, `ssh exited: ${ssh.exitCode === null ? '' : (await end).stderr}`);
    await use(local);
    ssh.kill();
    await end;
  }

  it('answers through an ssh tunnel to its socket, as gitiso makes one', async () => {
    await throughTunnel('engine2', async (local) => {
      assert.equal(await pings(local), true);
      assert.equal(await rootDir(local), '/var/lib/gitiso-engine2');
    });
  });

  it('answers through the ssh config the set-up wrote', async () => {
    const local = join(dir, 'by-config.sock');
    const ssh = spawn('ssh', ['-F', engine.sshConfig, '-o', 'ExitOnForwardFailure=yes', 'gitiso-engine2', '-N', '-L', `${local}:/var/run/docker.sock`], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(ssh);
    const end = exited(ssh);
    await waitFor('the tunnel\'s local socket', () => existsSync(local) || ssh.exitCode !== null, 15_000);
    assert.equal(await pings(local), true, `ssh: ${ssh.exitCode === null ? 'running' : (await end).stderr}`);
    ssh.kill();
    await end;
  });

  it('refuses a key it was not given, and a server whose host key is not the known one', async () => {
    const otherKey = join(dir, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const wrongKeySocket = join(dir, 'wrong-key.sock');
    const wrongKey = await exited(tunnel(engine, { key: otherKey, knownHosts: engine.sshKnownHosts }, wrongKeySocket));
    assert.notEqual(wrongKey.code, 0);
    // Keys only: no password or keyboard-interactive way is offered.
    assert.match(wrongKey.stderr, /Permission denied \(publickey\)/);
    assert.equal(existsSync(wrongKeySocket), false);

    // The attacker's server: another host key under the same name.
    const otherKnownHosts = join(dir, 'known_hosts');
    const port = new URL(engine.sshHost).port;
    writeFileSync(otherKnownHosts, `[127.0.0.1]:${port} ${readFileSync(`${otherKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    const wrongHostSocket = join(dir, 'wrong-host.sock');
    const wrongHost = await exited(tunnel(engine, { key: engine.sshKey, knownHosts: otherKnownHosts }, wrongHostSocket));
    assert.notEqual(wrongHost.code, 0);
    assert.match(wrongHost.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.equal(existsSync(wrongHostSocket), false);
  });

  it('is told apart from the main engine (their ids alone are the same), so gitiso\'s network there gets a bridge of its own (one name would be one bridge for both)', async () => {
    const ids = [await (await testEngine()).engineId(), await new Engine(engine.unixHost).engineId()];
    assert.ok(ids.every((id) => id.length > 0), `engine ids: ${ids.join(', ')}`);
    const bridges = ids.map(gitisoBridgeName);
    assert.notEqual(bridges[0], bridges[1]);
    assert.ok(bridges.every((name) => /^gitiso-[0-9a-f]{8}$/.test(name)), bridges.join(', '));
  });

  it('keeps its containers out of the main engine\'s agents\' reach; the host reaches them', async () => {
    const main = await testEngine();
    const other = new Engine(engine.unixHost);
    await ensureNetwork(main);
    const started: Array<{ engine: Engine; id: string }> = [];
    const run = async (on: Engine, cmd: string[]): Promise<string> => {
      const id = await on.createContainer({ Image: testImage(), Cmd: cmd, Labels: { [TEST_LABEL]: 'engine2-reach' }, HostConfig: { NetworkMode: TEST_NETWORK } });
      started.push({ engine: on, id });
      await on.startContainer(id);
      return id;
    };
    try {
      const server = await run(other, ['python3', '-m', 'http.server', '8000']);
      const address = containerAddress(await other.inspectContainer(server));
      assert.ok(address?.startsWith('10.213.'), `the second engine's container is at ${address}`);
      await waitFor('the server in the second engine', () => httpGet(`http://${address}:8000/`).then(() => true, () => false), 15_000);
      const client = await run(main, ['sleep', '60']);
      const reach = await main.exec(client, ['python3', '-c', `import urllib.request
try:
    print(urllib.request.urlopen('http://${address}:8000/', timeout=3).status)
except Exception as e:
    print('refused', e)`]);
      assert.match(reach.stdout, /^refused/, `an agent of the main engine reached the second engine's container: ${reach.stdout}`);
    } finally {
      await Promise.all(started.map((container) => container.engine.removeContainer(container.id)));
    }
  });

  it('stops and starts again alone: the main engine answers throughout, the ssh engine follows', async () => {
    const started = Date.now();
    await stopSecondDockerd();
    const stopped = Date.now();
    assert.equal(await pings(engine.socketPath), false);
    assert.equal(await pings('/var/run/docker.sock'), true);
    await throughTunnel('stopped', async (local) => assert.equal(await pings(local), false));
    await startSecondDockerd();
    console.log(`  second dockerd stopped in ${stopped - started} ms, answered again ${Date.now() - stopped} ms later`);
    await throughTunnel('restarted', async (local) => assert.equal(await pings(local), true));
  });
});
