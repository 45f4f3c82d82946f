import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LABEL, type Agent, type CreateStrategy } from '../../src/core/agent';
import type { Engine } from '../../src/core/docker/engine';
import { CreateFailedError } from '../../src/core/errors';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { isMissingLogin } from '../../src/core/git/missingLogin';
import type { Logger } from '../../src/core/logger';
import { containerNameFor } from '../../src/core/names';
import { HttpGitServer } from '../support/httpGitServer';
import { SshAgent } from '../support/sshAgent';
import { SshGitServer } from '../support/sshGitServer';
import { idPrefix, makeTempDir, removeAgents, removeDir, TEST_LABEL, TEST_LIMITS, TEST_NETWORK, testEngine, testImage, testServerImage } from '../support/testEnv';

const identity = { name: 'Test Person', email: 'test@example.com' };
/** What the host's git needs for the servers, for this process only: set in before(), restored after. */
const HOST_ENV_KEYS = ['SSH_AUTH_SOCK', 'GIT_SSH_COMMAND', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0'] as const;

/** One private remote: a URL as a user gives it, and the server and repository behind it. */
interface Remote {
  readonly name: 'http' | 'ssh' | 'scp';
  readonly url: string;
  readonly server: HttpGitServer | SshGitServer;
}

describe('private repositories: HTTP with a login, ssh:// and scp-like, on real servers', () => {
  let engine: Engine;
  let http: HttpGitServer;
  let ssh: SshGitServer;
  let sshAgent: SshAgent;
  let core: GitisoCore;
  let remotes: Remote[];
  let main: Map<Remote['server'], string>;
  /** The servers' main after the sync case's commits. */
  let next: Map<Remote['server'], string>;
  let scratch: string;
  const savedEnv = new Map<string, string | undefined>();
  const logLines: string[] = [];
  const prefix = idPrefix('private');
  const id = (remote: Remote, strategy: CreateStrategy): string => `${prefix}-${remote.name}-${strategy}`;
  /** Agents made by the cases, with the remote each came from. */
  const agents: { readonly agent: Agent; readonly remote: Remote }[] = [];

  before(async () => {
    const started = Date.now();
    engine = await testEngine();
    scratch = makeTempDir('private-host');
    sshAgent = await SshAgent.start();
    [http, ssh] = await Promise.all([HttpGitServer.start(engine, testServerImage()), SshGitServer.start(engine, testServerImage(), sshAgent.publicKey)]);
    main = new Map<Remote['server'], string>([
      [http, http.createRepo('private', { 'src/app.txt': 'app\n' }).main],
      [ssh, ssh.createRepo('private', { 'src/app.txt': 'app\n' }).main],
    ]);
    remotes = [
      { name: 'http', url: http.url('private'), server: http },
      { name: 'ssh', url: ssh.url('private'), server: ssh },
      { name: 'scp', url: ssh.scpUrl('private'), server: ssh },
    ];
    // The host's credentials, as a user has them: a credential helper for HTTP, an ssh-agent and known_hosts for SSH.
    const credentials = join(scratch, 'git-credentials');
    writeFileSync(credentials, `${http.credentialLine()}\n`, { mode: 0o600 });
    const knownHosts = join(scratch, 'known_hosts');
    writeFileSync(knownHosts, `${ssh.knownHostsLine()}\n`);
    for (const key of HOST_ENV_KEYS) {
      savedEnv.set(key, process.env[key]);
    }
    Object.assign(process.env, {
      SSH_AUTH_SOCK: sshAgent.socket,
      // -p: scp-like URLs carry no port; ssh:// URLs give theirs after it, the same one.
      GIT_SSH_COMMAND: `ssh -F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -p ${ssh.port}`,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'credential.helper',
      GIT_CONFIG_VALUE_0: `store --file=${credentials}`,
    });
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity, storageDir: join(scratch, 'storage'), log: collectingLogger(logLines) });
    console.log(`servers and ssh-agent ready in ${Date.now() - started} ms`);
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await Promise.all([http?.stop(), ssh?.stop()]);
    sshAgent?.stop();
    core?.dispose();
    for (const [key, value] of savedEnv) {
      if (value === undefined) {
        Reflect.deleteProperty(process.env, key);
      } else {
        process.env[key] = value;
      }
    }
    removeDir(scratch);
  });

  /** git on the host with this process's environment minus `without`, never prompting. */
  function hostGitWithout(without: readonly string[], args: readonly string[]): { status: number | null; stderr: string } {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !without.includes(key)));
    const run = spawnSync('git', args, { env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' }, encoding: 'utf8', timeout: 60_000 });
    return { status: run.status, stderr: run.stderr };
  }

  it('the servers want a login: anonymous HTTP gets 401, git without the host\'s credential or key is refused, with them it reads', async () => {
    const anonymous = await fetch(`${http.url('private')}/info/refs?service=git-upload-pack`);
    assert.equal(anonymous.status, 401);
    const withoutHelper = hostGitWithout(['GIT_CONFIG_COUNT'], ['ls-remote', http.url('private')]);
    assert.notEqual(withoutHelper.status, 0);
    assert.ok(isMissingLogin(withoutHelper.stderr), withoutHelper.stderr);
    for (const url of [ssh.url('private'), ssh.scpUrl('private')]) {
      const withoutAgent = hostGitWithout(['SSH_AUTH_SOCK'], ['ls-remote', url]);
      assert.notEqual(withoutAgent.status, 0);
      assert.match(withoutAgent.stderr, /Permission denied \(publickey\)/);
    }
    // With them, the host reads and pushes (what a push from the host will need).
    for (const remote of remotes) {
      const clone = join(scratch, `clone-${remote.name}`);
      const cloned = hostGitWithout([], ['clone', '-q', remote.url, clone]);
      assert.equal(cloned.status, 0, cloned.stderr);
      const pushed = hostGitWithout([], ['-C', clone, 'push', '-q', 'origin', `main:refs/heads/host-${remote.name}`]);
      assert.equal(pushed.status, 0, pushed.stderr);
      assert.equal(remote.server.branchCommit('private', `host-${remote.name}`), main.get(remote.server));
      removeDir(clone);
    }
  });

  it('creates agents from each private remote with the snapshot and pool strategies: the host fetches with its own credentials', async () => {
    const started = Date.now();
    const requests = remotes.flatMap((remote) => (['snapshot', 'pool'] as const).map((strategy) => ({ remote, strategy })));
    const created = await Promise.all(requests.map(async ({ remote, strategy }) => ({ remote, agent: await core.creator.create({ id: id(remote, strategy), repoUrl: remote.url, strategy }) })));
    console.log(`${created.length} agents (snapshot and pool, three remotes) created in ${Date.now() - started} ms`);
    agents.push(...created);
    for (const { agent, remote } of created) {
      assert.equal(agent.state, 'ready', `${agent.id}: ${agent.reason ?? ''}`);
      assert.equal(agent.baseCommit, main.get(remote.server));
      const head = await core.exec.git(agent.id, ['rev-parse', 'HEAD']);
      assert.equal(head.stdout.trim(), main.get(remote.server));
      // origin is the URL the user gave, untouched: no credentials were written into it.
      const origin = await core.exec.git(agent.id, ['remote', 'get-url', 'origin']);
      assert.equal(origin.stdout.trim(), remote.url);
      const file = await core.exec.run(agent.id, ['cat', 'src/app.txt']);
      assert.equal(file.stdout, 'app\n');
    }
  });

  it('sync brings a commit made on each server into the agents of each remote', async () => {
    next = new Map<Remote['server'], string>([
      [http, http.commit('private', { branch: 'main', files: { 'src/app.txt': 'app 2\n' }, message: 'second commit' })],
      [ssh, ssh.commit('private', { branch: 'main', files: { 'src/app.txt': 'app 2\n' }, message: 'second commit' })],
    ]);
    const started = Date.now();
    assert.equal(agents.length, 6, 'the agents of the case before');
    const synced = await Promise.all(agents.map(async ({ agent, remote }) => ({ agent, server: remote.server, result: await core.agents.sync(agent.id) })));
    console.log(`${synced.length} agents synced in ${Date.now() - started} ms`);
    for (const { agent, server, result } of synced) {
      assert.deepEqual(result, { branch: 'main', from: main.get(server), to: next.get(server) }, agent.id);
      const tracking = await core.exec.git(agent.id, ['rev-parse', 'refs/remotes/origin/main']);
      assert.equal(tracking.stdout.trim(), next.get(server), agent.id);
    }
  });

  it('the remote strategy refuses each private remote, names the strategies that work, and leaves no container', async () => {
    const started = Date.now();
    await Promise.all(
      remotes.map(async (remote) => {
        const agentId = id(remote, 'remote');
        await assert.rejects(core.creator.create({ id: agentId, repoUrl: remote.url, strategy: 'remote' }), (error: unknown) => {
          assert.ok(error instanceof CreateFailedError, String(error));
          assert.match(error.message, /wants a login, and agents hold no credentials/);
          assert.match(error.message, /snapshot or pool strategy \(setting gitiso\.createStrategy, or --strategy snapshot/);
          return true;
        });
        assert.equal(await engine.inspectContainer(containerNameFor(agentId)), undefined, `container of ${agentId} was left behind`);
      }),
    );
    console.log(`three remote-strategy refusals in ${Date.now() - started} ms`);
  });

  it('a push from inside an agent fails: the agent holds no credentials, and nothing reaches the server', async () => {
    await Promise.all(
      remotes.map(async (remote) => {
        const agentId = id(remote, 'snapshot');
        const commit = await core.exec.git(agentId, ['commit', '-q', '--allow-empty', '-m', 'agent work']);
        assert.equal(commit.exitCode, 0, commit.stderr);
        const push = await core.exec.git(agentId, ['push', 'origin', `HEAD:refs/heads/from-${remote.name}`], { timeoutMs: 60_000 });
        assert.notEqual(push.exitCode, 0);
        assert.ok(isMissingLogin(push.stderr), `${agentId}: ${push.stderr}`);
        assert.equal(remote.server.branchCommit('private', `from-${remote.name}`), undefined);
      }),
    );
  });

  it('an agent with an ssh client that accepts any host key still cannot push over ssh: no key, no ssh-agent of the host in it', async () => {
    // The servers' image has an ssh client; the test image has none.
    const agentId = `${prefix}-ssh-client`;
    await core.creator.create({ id: agentId, repoUrl: ssh.url('private'), image: testServerImage() });
    const sshCommand = `ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -p ${ssh.port}`;
    const push = await core.exec.git(agentId, ['-c', `core.sshCommand=${sshCommand}`, 'push', 'origin', 'HEAD:refs/heads/from-ssh-client'], { timeoutMs: 60_000 });
    assert.notEqual(push.exitCode, 0);
    assert.match(push.stderr, /Permission denied \(publickey\)/);
    assert.equal(ssh.branchCommit('private', 'from-ssh-client'), undefined);
    const socket = await core.exec.run(agentId, ['sh', '-c', 'echo "${SSH_AUTH_SOCK:-none}"']);
    assert.equal(socket.stdout.trim(), 'none');
  });

  it("a push from the host puts each agent's commit on its server with the host's credentials; a non-fast-forward push is refused", async () => {
    const started = Date.now();
    await Promise.all(
      remotes.map(async (remote) => {
        const agentId = id(remote, 'snapshot');
        const head = (await core.exec.git(agentId, ['rev-parse', 'HEAD'])).stdout.trim();
        const pushed = await core.roundTrip.push(agentId);
        assert.equal(pushed.kind, 'created', pushed.sentence);
        assert.equal(remote.server.branchCommit('private', `gitiso/${agentId}`), head, `${agentId}: the agent's commit is on the server`);
        // The agent's branch starts before the server's second commit on main.
        const refused = await core.roundTrip.push(agentId, { to: 'main' });
        assert.equal(refused.kind, 'rejected', refused.sentence);
        assert.match(refused.sentence, /has commits the agent's lacks/);
        assert.equal(remote.server.branchCommit('private', 'main'), next.get(remote.server), `${agentId}: main on the server is unchanged`);
      }),
    );
    console.log(`three pushes and three refusals from the host in ${Date.now() - started} ms`);
  });

  it('no password, private key or htpasswd line in any agent, snapshot, image history or log line', async () => {
    const started = Date.now();
    const secrets = new Map<string, string>([
      ['the HTTP password', http.password],
      ['the htpasswd line', http.htpasswdLine],
      ...sshAgent.privateKeyLines.map((line, index): [string, string] => [`line ${index + 1} of the private key`, line]),
      // Not a secret, but a sign that the host's environment went in.
      ['the ssh-agent socket path', sshAgent.socket],
    ]);
    const findings: string[] = [];
    const scan = (where: string, content: string | Buffer): void => {
      for (const [what, secret] of secrets) {
        if (content.includes(secret)) {
          findings.push(`${what} in ${where}`);
        }
      }
    };

    // The scan itself finds what is there: the HTTP server holds the htpasswd line.
    const control = await archiveOf(engine, http.containerId, '/etc/gitiso-httpd');
    assert.ok(control.includes(http.htpasswdLine), 'the scan does not find the htpasswd line in the server, where it is');

    const ours = (await engine.listContainers(LABEL.agent)).filter((c) => c.Labels[LABEL.agent]?.startsWith(prefix));
    assert.equal(ours.length, 7);
    const images = new Set<string>();
    for (const container of ours) {
      const name = container.Labels[LABEL.agent] ?? container.Id;
      scan(`docker inspect of ${name}`, docker('inspect', container.Id));
      scan(`docker logs of ${name}`, docker('logs', container.Id));
      for (const path of ['/workspace/.git', '/etc', '/gitiso']) {
        scan(`${path} in ${name}`, await archiveOf(engine, container.Id, path));
      }
      images.add(container.ImageID);
    }
    const urls = new Set(remotes.map((remote) => remote.url));
    const snapshots = (await core.snapshots.list()).filter((snapshot) => urls.has(snapshot.repoUrl));
    assert.ok(snapshots.length >= 4, `one snapshot per remote and image at least, found ${snapshots.length}`);
    for (const snapshot of snapshots) {
      images.add(snapshot.image);
      // A container made from the snapshot (never started) shows its files as the snapshot holds them.
      const reader = await engine.createContainer({ Image: snapshot.image, Cmd: ['true'], Labels: { [TEST_LABEL]: 'snapshot-scan' } });
      try {
        for (const path of ['/workspace/.git', '/etc']) {
          scan(`${path} in snapshot ${snapshot.image}`, await archiveOf(engine, reader, path));
        }
      } finally {
        await engine.removeContainer(reader);
      }
    }
    for (const image of images) {
      scan(`docker image inspect of ${image}`, docker('image', 'inspect', image));
      scan(`image history of ${image}`, docker('image', 'history', '--no-trunc', '--format', '{{json .}}', image));
    }
    scan("gitiso's log", logLines.join('\n'));
    assert.ok(logLines.length > 0, 'the core logged nothing: the log scan would mean nothing');
    console.log(`scanned ${ours.length} agents, ${snapshots.length} snapshots, ${images.size} images and ${logLines.length} log lines in ${Date.now() - started} ms`);
    assert.deepEqual(findings, []);
  });
});

/** A logger that keeps every line, with its arguments, for the scan. */
function collectingLogger(lines: string[]): Logger {
  const keep = (message: string | Error, ...args: unknown[]): void => {
    lines.push([String(message), ...args.map((arg) => (arg instanceof Error ? `${arg.message}\n${arg.stack ?? ''}` : JSON.stringify(arg)))].join(' '));
  };
  return { trace: keep, debug: keep, info: keep, warn: keep, error: keep };
}

/** The files under `path` in a container as one tar (empty when the path does not exist). */
async function archiveOf(engine: Engine, containerId: string, path: string): Promise<Buffer> {
  const stream = await engine.getArchive(containerId, path);
  if (!stream) {
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

/** The docker CLI's stdout and stderr (`docker logs` writes both). */
function docker(...args: string[]): string {
  const run = spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 ** 2 });
  assert.equal(run.status, 0, `docker ${args.join(' ')}: ${run.stderr}`);
  return run.stdout + run.stderr;
}
