import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isRunning } from '../../src/core/agent';
import { AgentsModel } from '../../src/core/agentsModel';
import { AgentApiAccess, agentIdsOnEvery } from '../../src/core/apiProxy/agentApiAccess';
import type { CodingAgentApi } from '../../src/core/codingAgents/codingAgentPreset';
import { containerAddress } from '../../src/core/docker/containerAddress';
import { Engine } from '../../src/core/docker/engine';
import { AgentsAcrossEngines } from '../../src/core/engines/agentsAcrossEngines';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { containerNameFor } from '../../src/core/names';
import { StatsSampler } from '../../src/core/stats/statsSampler';
import { FakeLlmApi } from '../support/fakeLlmApi';
import { GitServer } from '../support/gitServer';
import { LLM_CLIENT_SCRIPT } from '../support/llmClient';
import { secondEngine, startSecondDockerd, stopSecondDockerd, type SecondEngine } from '../support/secondEngine';
import { makeTestCertificates } from '../support/testCertificates';
import { idPrefix, makeTempDir, removeAgents, removeDir, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { waitFor } from '../support/waitFor';

const PAGE = 'hello from the second engine\n';

/**
 * Agents on an SSH engine: the test set-up's second dockerd, reached only
 * through sshd (scripts/ensure-second-engine.sh), as `ssh://gitiso-engine2`
 * with the ssh config it wrote. The same core as on the local engine:
 * create from the host's pool, git, dev server and forward, stats, the
 * round trip; and the local engine untouched when the second one stops.
 */
describe('agents on an SSH engine', () => {
  let second: SecondEngine;
  let local: Engine;
  let remote: Engine;
  let direct: Engine;
  let server: GitServer;
  let storage: string;
  let localCore: GitisoCore;
  let core: GitisoCore;
  const prefix = idPrefix('ssh');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    second = secondEngine();
    local = await testEngine();
    remote = new Engine({ host: 'ssh://gitiso-engine2', sshConfigFile: second.sshConfig });
    direct = new Engine(second.unixHost);
    server = await GitServer.start(local, testImage());
    server.createRepo('web', { '.gitiso.json': JSON.stringify({ dev: 'python3 -m http.server 3000' }), 'index.html': PAGE });
    storage = makeTempDir('ssh-engine');
    const options = { defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'S', email: 's@example.com' }, storageDir: storage };
    localCore = createCore({ ...options, engine: local });
    core = createCore({ ...options, engine: remote, pool: localCore.pool });
  });

  after(async () => {
    await removeAgents(direct, prefix).catch(() => undefined);
    await removeAgents(local, prefix).catch(() => undefined);
    await core?.snapshots.prune(0).catch(() => undefined);
    await localCore?.snapshots.prune(0).catch(() => undefined);
    core?.dispose();
    localCore?.dispose();
    remote?.dispose();
    await server?.stop();
    removeDir(storage);
  });

  it('creates an agent on the SSH engine from the host’s pool: its container is there, not on the local engine', async () => {
    const agent = await core.creator.create({ id: id('one'), repoUrl: server.url('web') });
    assert.equal(agent.state, 'ready');
    const onSecond = await direct.listContainers('gitiso.agent');
    assert.ok(onSecond.some((c) => c.Labels['gitiso.agent'] === id('one')), 'the agent is a container of the second engine');
    const onLocal = await local.listContainers('gitiso.agent');
    assert.ok(!onLocal.some((c) => c.Labels['gitiso.agent'] === id('one')), 'nothing of it on the local engine');
  });

  it('builds the snapshot on the engine that needs it, and the next agent starts from it there', async () => {
    await waitFor('a snapshot on the second engine', async () => (await direct.listImages('gitiso.snapshot')).length > 0, 120_000);
    assert.equal((await local.listImages('gitiso.snapshot')).filter((image) => image.Labels?.['gitiso.repo'] === server.url('web')).length, 0, 'none on the local engine');
    const two = await core.creator.create({ id: id('two'), repoUrl: server.url('web') });
    assert.equal(two.state, 'ready');
    await core.agents.remove(id('two'));
  });

  it('starts the first agent of a repository the pool knows, on an engine with no snapshot of it, with its own clone; the snapshot follows', async () => {
    server.createRepo('known', { 'a.txt': 'a\n' });
    await localCore.creator.create({ id: id('known-here'), repoUrl: server.url('known') });
    const there = await core.creator.create({ id: id('known-there'), repoUrl: server.url('known') });
    assert.equal(there.state, 'ready');
    assert.equal((await direct.inspectContainer(there.containerId))?.Config.Image, testImage(), 'it started from the agents\' image, not a snapshot built first');
    assert.equal((await core.exec.git(id('known-there'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('known-there')}`);
    await waitFor('its snapshot on the second engine, built behind it', async () => (await direct.listImages('gitiso.snapshot')).some((image) => image.Labels?.['gitiso.repo'] === server.url('known')), 120_000);
    await Promise.all([localCore.agents.remove(id('known-here')), core.agents.remove(id('known-there'))]);
  });

  it('runs git in the agent through the SSH connection', async () => {
    assert.equal((await core.exec.git(id('one'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('one')}`);
    const write = await core.exec.run(id('one'), ['sh', '-c', 'echo changed > /workspace/index.html']);
    assert.equal(write.exitCode, 0, write.stderr);
    assert.match((await core.exec.git(id('one'), ['status', '--porcelain'])).stdout, /index\.html/);
    assert.equal((await core.exec.git(id('one'), ['commit', '-qam', 'on the second engine'])).exitCode, 0);
  });

  it('starts the dev server and forwards its port 3000 to 127.0.0.1 through the ssh connection, where the page answers', async () => {
    await core.exec.run(id('one'), ['sh', '-c', `printf '${PAGE}' > /workspace/index.html`]);
    const started = await core.devServers.start(id('one'), { forward: true });
    assert.ok(started.forward, 'forwarded');
    assert.match(started.forward.url, /^http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(started.forward.through, 'ssh connection', 'through the engine’s ssh connection, not to the container’s address');
    const response = await fetch(`${started.forward.url}/index.html`);
    assert.equal(await response.text(), PAGE);
  });

  it('reads the agent’s stats through its channel', async () => {
    const sampler = new StatsSampler({ exec: core.exec, engine: remote, runningAgents: async () => (await core.agents.list()).filter((a) => isRunning(a) && a.id.startsWith(prefix)) }, { diskIntervalMs: 3_600_000 });
    try {
      const stats = (await sampler.sample()).get(id('one'));
      assert.ok(stats, 'a sample of the agent');
      assert.equal(stats.memoryLimitBytes, TEST_LIMITS.memoryBytes);
      assert.ok(stats.pids >= 1);
    } finally {
      sampler.dispose();
    }
  });

  it('brings the agent’s work home to the host', async () => {
    const write = await core.exec.run(id('one'), ['sh', '-c', 'echo "made on the second engine" > /workspace/NOTES.md']);
    assert.equal(write.exitCode, 0, write.stderr);
    const work = await core.roundTrip.bringHome(id('one'));
    const files = await core.roundTrip.changes(work);
    assert.ok(files.some((file) => file.path === 'NOTES.md'), JSON.stringify(files));
  });

  it('calls its coding agent’s API through the host’s key proxy, over a relay in its own container that no other agent can use', async () => {
    const key = `sk-ssh-${randomBytes(16).toString('hex')}`;
    const certificatesDir = makeTempDir('ssh-api');
    const certificates = makeTestCertificates(certificatesDir);
    const llm = await FakeLlmApi.start(key, certificates);
    const api: CodingAgentApi = { upstream: `${llm.url}/anthropic/v1`, baseUrlEnv: 'ANTHROPIC_BASE_URL', keyEnv: 'ANTHROPIC_API_KEY', keyHeader: 'x-api-key' };
    // The proxy listens for the local engine's agents; these are on the SSH engine, which no port on this machine reaches.
    const accessOptions = { engine: local, network: localCore.network, engineOf: () => remote, apis: [api], keyFor: () => key, ca: certificates.ca, tokensFile: join(certificatesDir, 'tokens.json'), agentIds: () => agentIdsOnEvery([localCore, core]) };
    let access = new AgentApiAccess(accessOptions);
    const listening = (agent: string): Promise<string> => core.exec.run(id(agent), ['python3', '-c', 'import socket, sys; print(socket.socket().connect_ex((sys.argv[1], 41597)))', '127.0.0.1']).then((result) => result.stdout.trim());
    try {
      await core.creator.create({ id: id('peer'), repoUrl: server.url('web') });
      const env = { one: await access.envFor(id('one'), api), peer: await access.envFor(id('peer'), api) };
      assert.match(env.one.ANTHROPIC_BASE_URL ?? '', /^http:\/\/127\.0\.0\.1:41597\//);
      const call = async (agent: string, vars: Record<string, string>, token?: string): Promise<number> => {
        const spec = { env: 'ANTHROPIC', path: '/messages', body: { input: 2, output: 3 }, ...(token ? { token } : {}) };
        const result = await core.exec.run(id(agent), ['env', ...Object.entries(vars).map(([name, value]) => `${name}=${value}`), 'python3', '-c', LLM_CLIENT_SCRIPT, JSON.stringify(spec)], { timeoutMs: 60_000 });
        assert.equal(result.exitCode, 0, `${agent}: ${result.stderr}`);
        return (JSON.parse(result.stdout) as { status: number }).status;
      };
      assert.equal(await call('one', env.one), 200);
      assert.equal(llm.seen.at(-1)?.keyed, true, 'upstream got the real key');
      assert.equal((await access.usage()).get(id('one'))?.outputTokens, 3);
      // The window reloads: its relays end, the session goes on, and the next window serves it again with the token it has.
      await access.close();
      await waitFor('the listener in the agent to end with its window', async () => (await listening('one')) !== '0', 10_000);
      access = new AgentApiAccess(accessOptions);
      // The next window knows the agents of every engine: the relayed agents' kept tokens are not taken for gone.
      assert.deepEqual(await access.resume([id('one'), id('two'), id('peer')]), [id('one'), id('peer')], 'only agents with a kept token are served');
      assert.equal(await call('one', env.one), 200);
      // The attacker's cases: the peer presents one's token through its own relay, and tries one's listener at one's address.
      const seen = llm.seen.length;
      assert.equal(await call('peer', env.peer, env.one.ANTHROPIC_API_KEY), 403);
      assert.equal(llm.seen.length, seen, 'upstream saw the refused request');
      const address = containerAddress(await direct.inspectContainer(containerNameFor(id('one'))));
      assert.ok(address);
      const across = await core.exec.run(id('peer'), ['python3', '-c', 'import socket, sys; s = socket.socket(); s.settimeout(3); print(s.connect_ex((sys.argv[1], 41597)))', address]);
      assert.notEqual(across.stdout.trim(), '0', 'the peer reached the listener in one');
    } finally {
      await access.close();
      await llm.stop();
      removeDir(certificatesDir);
    }
    // Closed with the access: nothing listens in the agent any more.
    await waitFor('the listener in the agent to end', async () => (await listening('one')) !== '0', 10_000);
    await core.agents.remove(id('peer'));
  });

  it('marks only its agents unreachable when the second dockerd stops, and they come back when it does', async () => {
    await localCore.creator.create({ id: id('home'), repoUrl: server.url('web') });
    const localModel = new AgentsModel({ agents: localCore.agents, creator: localCore.creator, engine: local });
    const remoteModel = new AgentsModel({ agents: core.agents, creator: core.creator, engine: remote });
    const across = new AgentsAcrossEngines([
      { name: 'local', model: localModel },
      { name: 'second', model: remoteModel },
    ]);
    localModel.start();
    remoteModel.start();
    try {
      await waitFor('both engines listed', () => across.engineOf(id('home')) === 'local' && across.engineOf(id('one')) === 'second', 30_000);
      await stopSecondDockerd();
      await waitFor('the second engine unavailable', async () => {
        await remoteModel.refresh();
        return across.statusOf('second').kind === 'unavailable';
      }, 30_000);
      assert.equal(across.statusOf('local').kind, 'connected');
      assert.equal(across.engineOf(id('home')), 'local', 'the local agent stays');
      assert.equal(across.engineOf(id('one')), undefined, 'the second engine’s agent cannot be acted on');
      assert.ok(across.unreachableOn('second').some((agent) => agent.id === id('one')), 'it shows as unreachable');
      assert.equal((await localCore.exec.git(id('home'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('home')}`);
      await startSecondDockerd();
      await waitFor('the second engine’s agent back', async () => {
        await remoteModel.refresh();
        return across.engineOf(id('one')) === 'second';
      }, 60_000);
      assert.deepEqual(across.unreachableOn('second'), []);
    } finally {
      across.dispose();
      localModel.dispose();
      remoteModel.dispose();
      await startSecondDockerd().catch(() => undefined);
    }
  });
});
