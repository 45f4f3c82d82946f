import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LABEL, STATE_FILE } from '../../src/core/agent';
import type { CreateProgress } from '../../src/core/create/createRequest';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { Engine } from '../../src/core/docker/engine';
import { AgentExistsError, AgentNotFoundError, CancelledError, EngineUnavailableError, ImageUnavailableError, InvalidInputError, PoolError } from '../../src/core/errors';
import { containerNameFor } from '../../src/core/names';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_NETWORK, testEngine, testImage, TEST_LIMITS } from '../support/testEnv';

const identity = { name: 'Test Person', email: 'test@example.com' };

describe('agents on a real engine and git server', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  let commits: { main: string; feature: string };
  const prefix = idPrefix('agents');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    commits = server.createRepo('demo');
    service = newService();
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await server?.stop();
  });

  function newService(): GitisoCore {
    return createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity });
  }

  /** The process is gone from the container (killed, not only detached from), within two seconds. */
  async function assertProcessGone(containerId: string, command: string): Promise<void> {
    let left = '';
    for (let attempt = 0; attempt < 20; attempt++) {
      left = (await engine.exec(containerId, ['ps', '-eo', 'args'])).stdout;
      if (!left.includes(command)) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`'${command}' still runs in the container:\n${left}`);
  }

  async function assertNoContainer(agentId: string): Promise<void> {
    assert.equal(await engine.inspectContainer(containerNameFor(agentId)), undefined, `container of ${agentId} was left behind`);
  }

  it('creates an agent whose clone is on gitiso/<id> at the base branch commit, with progress', async () => {
    const phases: CreateProgress[] = [];
    const agent = await service.creator.create({ id: id('a1'), repoUrl: server.url('demo') }, { onProgress: (p) => phases.push(p) });
    assert.equal(agent.state, 'ready');
    assert.equal(agent.sessionBranch, `gitiso/${id('a1')}`);
    assert.equal(agent.baseBranch, 'main');
    assert.equal(agent.baseCommit, commits.main);
    const branch = await service.exec.git(agent.id, ['rev-parse', '--abbrev-ref', 'HEAD']);
    assert.deepEqual({ code: branch.exitCode, out: branch.stdout.trim() }, { code: 0, out: agent.sessionBranch });
    const head = await service.exec.git(agent.id, ['rev-parse', 'HEAD']);
    assert.equal(head.stdout.trim(), commits.main);
    // The first agent of a repository never seen makes its own clone: no snapshot is waited for (it is built after).
    assert.deepEqual([...new Set(phases.map((p) => p.phase))], ['checking', 'fetching', 'container', 'checkout', 'ready']);
    // The working tree lives in the container: no bind mount of any kind.
    const info = await engine.inspectContainer(agent.containerId);
    assert.deepEqual(info?.Mounts, []);
  });

  it('writes the host identity into the clone and runs git status, log, commit and push', async () => {
    const agentId = id('a1');
    const name = await service.exec.git(agentId, ['config', 'user.name']);
    assert.equal(name.stdout.trim(), identity.name);
    const status = await service.exec.git(agentId, ['status', '--porcelain=v1', '--branch']);
    assert.equal(status.exitCode, 0);
    assert.match(status.stdout, new RegExp(`^## gitiso/${agentId}\\n?$`));
    const log = await service.exec.git(agentId, ['log', '-1', '--format=%s']);
    assert.equal(log.stdout.trim(), 'first commit');

    const commit = await service.exec.git(agentId, ['commit', '--allow-empty', '-q', '-m', 'work of the agent']);
    assert.equal(commit.exitCode, 0, commit.stderr);
    const agentHead = (await service.exec.git(agentId, ['rev-parse', 'HEAD'])).stdout.trim();
    const author = (await service.exec.git(agentId, ['log', '-1', '--format=%an <%ae>'])).stdout.trim();
    assert.equal(author, 'Test Person <test@example.com>');
    const push = await service.exec.git(agentId, ['push', '-q', 'origin', `gitiso/${agentId}`]);
    assert.equal(push.exitCode, 0, push.stderr);
    assert.equal(server.branchCommit('demo', `gitiso/${agentId}`), agentHead);
  });

  it('returns git failures as exit codes with stderr kept apart from stdout', async () => {
    const result = await service.exec.git(id('a1'), ['rev-parse', '--verify', 'no-such-branch']);
    assert.equal(result.exitCode, 128);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Needed a single revision/);
  });

  it('passes arguments as they are, with no shell in between', async () => {
    const tricky = 'a b; echo pwned $(id) `id` "q"';
    const result = await service.exec.git(id('a1'), ['-c', `gitiso.probe=${tricky}`, 'config', 'gitiso.probe']);
    assert.equal(result.stdout, `${tricky}\n`);
  });

  it('finds the agent with all its fields from a fresh service (state lives in the engine)', async () => {
    const fresh = newService();
    const agents = await fresh.agents.list();
    const agent = agents.find((a) => a.id === id('a1'));
    assert.ok(agent, 'agent not listed');
    assert.equal(agent.repoUrl, server.url('demo'));
    assert.equal(agent.baseBranch, 'main');
    assert.equal(agent.baseCommit, commits.main);
    assert.equal(agent.sessionBranch, `gitiso/${id('a1')}`);
    assert.equal(agent.state, 'ready');
    assert.equal(agent.image, testImage());
    assert.equal(agent.gitisoVersion, '0.1.0');
    assert.ok(Date.now() - agent.createdAt.getTime() < 10 * 60_000, 'created time is not recent');
  });

  it('starts from a named base branch', async () => {
    const agent = await service.creator.create({ id: id('feat'), repoUrl: server.url('demo'), baseBranch: 'feature' });
    assert.equal(agent.baseBranch, 'feature');
    assert.equal(agent.baseCommit, commits.feature);
    assert.equal((await service.exec.git(agent.id, ['rev-parse', 'HEAD'])).stdout.trim(), commits.feature);
  });

  it('keeps two agents on one repository isolated', async () => {
    const other = await service.creator.create({ id: id('iso'), repoUrl: server.url('demo') });
    await service.exec.git(id('a1'), ['commit', '--allow-empty', '-q', '-m', 'only in a1']);
    const sha = (await service.exec.git(id('a1'), ['rev-parse', 'HEAD'])).stdout.trim();
    const seen = await service.exec.git(other.id, ['cat-file', '-e', sha]);
    assert.notEqual(seen.exitCode, 0, 'a commit of one agent is visible in another');
    assert.equal((await service.exec.git(other.id, ['rev-parse', 'HEAD'])).stdout.trim(), commits.main);
  });

  it('reports stopped and ready states from the engine, and a restart keeps the work', async () => {
    await service.exec.git(id('iso'), ['commit', '--allow-empty', '-q', '-m', 'work before a restart']);
    const work = (await service.exec.git(id('iso'), ['rev-parse', 'HEAD'])).stdout.trim();
    await service.agents.stop(id('iso'));
    assert.equal((await newService().agents.get(id('iso'))).state, 'stopped');
    await service.agents.start(id('iso'));
    assert.equal((await newService().agents.get(id('iso'))).state, 'ready');
    // The exec channel died with the container; git finds its way again, and the boot did not set the branch back.
    assert.equal((await service.exec.git(id('iso'), ['rev-parse', 'HEAD'])).stdout.trim(), work);
    assert.equal((await service.exec.git(id('iso'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('iso')}`);
  });

  it('cancels a git command on the exec channel by its timeout, kills it, and keeps the channel usable', async () => {
    const agent = await service.agents.get(id('a1'));
    await assert.rejects(service.exec.git(agent.id, ['-c', 'alias.linger=!sleep 41', 'linger'], { timeoutMs: 300 }), /timed out/);
    await assertProcessGone(agent.containerId, 'sleep 41');
    assert.equal((await service.exec.git(agent.id, ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), agent.sessionBranch);
  });

  it('refuses a second agent with the same id and leaves the first untouched', async () => {
    const before = await service.agents.get(id('a1'));
    await assert.rejects(service.creator.create({ id: id('a1'), repoUrl: server.url('demo') }), AgentExistsError);
    const afterwards = await service.agents.get(id('a1'));
    assert.equal(afterwards.containerId, before.containerId);
    assert.equal(afterwards.state, 'ready');
  });

  it('lets only one of two concurrent creates of one id win', async () => {
    const results = await Promise.allSettled([
      newService().creator.create({ id: id('race'), repoUrl: server.url('demo') }),
      newService().creator.create({ id: id('race'), repoUrl: server.url('demo') }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const loser = results.find((r) => r.status === 'rejected');
    assert.ok(loser && loser.reason instanceof AgentExistsError, `expected AgentExistsError, got ${String((loser as PromiseRejectedResult | undefined)?.reason)}`);
    assert.equal((await service.agents.get(id('race'))).state, 'ready');
  });

  it('rejects bad input with clear errors and leaves nothing behind', async () => {
    await assert.rejects(service.creator.create({ id: 'bad id', repoUrl: server.url('demo') }), InvalidInputError);
    await assert.rejects(service.creator.create({ id: id('x1'), repoUrl: 'https://token:secret@example.com/r.git' }), /credentials/);
    await assert.rejects(service.creator.create({ id: id('x2'), repoUrl: server.url('demo'), baseBranch: 'bad..branch' }), InvalidInputError);
    await assert.rejects(service.creator.create({ id: id('x3'), repoUrl: server.url('missing') }), (error: Error) => {
      assert.ok(error instanceof PoolError, 'a failed fetch is the pool error');
      assert.match(error.message, /could not fetch .*missing\.git: .*not exported/);
      return true;
    });
    await assert.rejects(service.creator.create({ id: id('x4'), repoUrl: server.url('demo'), baseBranch: 'no-such-branch' }), /no-such-branch/);
    await assert.rejects(service.creator.create({ id: id('x5'), repoUrl: server.url('demo'), image: 'gitiso-missing-image:nope' }), ImageUnavailableError);
    for (const name of ['x1', 'x2', 'x3', 'x4', 'x5']) {
      await assertNoContainer(id(name));
    }
    await assert.rejects(service.exec.git('no-such-agent', ['status']), AgentNotFoundError);
    await assert.rejects(service.agents.remove('no-such-agent'), AgentNotFoundError);
  });

  for (const [strategy, phase] of [['snapshot', 'container'], ['remote', 'cloning']] as const) {
    it(`cancels a ${strategy} create once its container exists and removes what it made`, async () => {
      const abort = new AbortController();
      const creating = service.creator.create({ id: id(`cancel-${strategy}`), repoUrl: server.url('demo'), strategy }, {
        signal: abort.signal,
        onProgress: (p) => {
          if (p.phase === phase) {
            abort.abort();
          }
        },
      });
      await assert.rejects(creating, CancelledError);
      await assertNoContainer(id(`cancel-${strategy}`));
    });
  }

  it('makes the same agent with either strategy', async () => {
    const facts = async (agentId: string): Promise<Record<string, string>> => {
      const agent = await newService().agents.get(agentId);
      const git = async (...args: string[]): Promise<string> => (await service.exec.git(agentId, args)).stdout.trim();
      return {
        branch: await git('rev-parse', '--abbrev-ref', 'HEAD'),
        head: await git('rev-parse', 'HEAD'),
        origin: await git('remote', 'get-url', 'origin'),
        user: await git('config', 'user.name'),
        status: await git('status', '--porcelain'),
        tracked: await git('ls-files'),
        labels: JSON.stringify([agent.repoUrl, agent.baseBranch, agent.baseCommit, agent.image, agent.state]),
      };
    };
    const strategies = ['snapshot', 'pool', 'remote'] as const;
    for (const strategy of strategies) {
      await service.creator.create({ id: id(`s-${strategy}`), repoUrl: server.url('demo'), strategy });
    }
    const described = await Promise.all(strategies.map((strategy) => facts(id(`s-${strategy}`))));
    strategies.forEach((strategy, index) => assert.equal(described[index]?.branch, `gitiso/${id(`s-${strategy}`)}`));
    const [snapshot, ...others] = described.map((d) => ({ ...d, branch: '' }));
    for (const other of others) {
      assert.deepEqual(other, snapshot);
    }
    assert.equal(described[0]?.origin, server.url('demo'));
    for (const strategy of strategies) {
      assert.equal((await newService().agents.get(id(`s-${strategy}`))).strategy, strategy);
      await service.agents.remove(id(`s-${strategy}`));
    }
  });

  it('makes the first agent of a new repository (its own clone, no snapshot waited for) the same as the agents of the snapshot built after it', async () => {
    server.createRepo('first');
    const url = server.url('first');
    const first = await service.creator.create({ id: id('first-1'), repoUrl: url });
    assert.equal((await engine.inspectContainer(first.containerId))?.Config.Image, testImage(), 'the first agent waited for a snapshot');
    for (const deadline = Date.now() + 120_000; !(await service.snapshots.list()).some((s) => s.repoUrl === url); await new Promise((resolve) => setTimeout(resolve, 200))) {
      assert.ok(Date.now() < deadline, 'no snapshot was built after the first agent');
    }
    const second = await service.creator.create({ id: id('first-2'), repoUrl: url });
    assert.match((await engine.inspectContainer(second.containerId))?.Config.Image ?? '', /^gitiso-snapshot:/);
    const facts = async (agentId: string, containerId: string): Promise<Record<string, unknown>> => {
      const git = async (...args: string[]): Promise<string> => (await service.exec.git(agentId, args)).stdout.trim().replaceAll(agentId, 'ID');
      const state = JSON.parse((await engine.readFile(containerId, STATE_FILE))?.toString() ?? '{}') as Record<string, unknown>;
      delete state.readyAt;
      const agent = await newService().agents.get(agentId);
      return {
        branch: await git('rev-parse', '--abbrev-ref', 'HEAD'),
        head: await git('rev-parse', 'HEAD'),
        refs: await git('for-each-ref', '--format=%(refname) %(objectname) %(upstream)'),
        config: await git('config', '--local', '--list'),
        status: await git('status', '--porcelain', '--untracked-files=all'),
        tracked: await git('ls-files', '-s'),
        fsck: await git('fsck', '--connectivity-only', '--no-dangling'),
        state,
        labels: [agent.repoUrl, agent.baseBranch, agent.baseCommit, agent.image, agent.state, agent.sessionBranch.replace(agentId, 'ID')],
      };
    };
    const [ofFirst, ofSecond] = [await facts(first.id, first.containerId), await facts(second.id, second.containerId)];
    assert.deepEqual(ofFirst, ofSecond);
    assert.equal(ofFirst.branch, 'gitiso/ID');
    assert.equal(ofFirst.status, '');
    assert.match(String(ofFirst.config), new RegExp(`remote\\.origin\\.url=${url.replace(/[.]/g, '\\.')}`));
    await service.agents.remove(first.id);
    await service.agents.remove(second.id);
  });

  it('kills a command that runs past its timeout', async () => {
    const agent = await service.agents.get(id('a1'));
    await assert.rejects(engine.exec(agent.containerId, ['sleep', '37'], { timeoutMs: 300 }), /timed out/);
    await assertProcessGone(agent.containerId, 'sleep 37');
  });

  it('removes an agent and leaves no container', async () => {
    await service.agents.remove(id('feat'));
    await assertNoContainer(id('feat'));
    const containers = await engine.listContainers(`${LABEL.agent}=${id('feat')}`);
    assert.deepEqual(containers, []);
    assert.ok(!(await service.agents.list()).some((a) => a.id === id('feat')));
  });

  it('says clearly when no engine answers', async () => {
    const dead = new Engine('unix:///tmp/gitiso-no-engine.sock');
    await assert.rejects(dead.ping(), EngineUnavailableError);
    const deadService = createCore({ engine: dead, defaultImage: testImage() });
    await assert.rejects(deadService.agents.list(), (error: Error) => {
      assert.ok(error instanceof EngineUnavailableError);
      assert.match(error.message, /^no Docker engine at unix:\/\/\/tmp\/gitiso-no-engine\.sock: start Docker or set DOCKER_HOST/);
      return true;
    });
    await assert.rejects(deadService.creator.create({ id: id('dead'), repoUrl: server.url('demo') }), EngineUnavailableError);
  });
});
