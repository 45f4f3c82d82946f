import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentsModel } from '../../src/core/agentsModel';
import type { Engine } from '../../src/core/docker/engine';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { restartableDockerd, restartDockerd } from '../support/dockerd';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';
import { httpGet } from '../support/http';
import { waitFor } from '../support/waitFor';

const dockerd = restartableDockerd();

// Restarting the engine stops every container on it: this suite runs alone, after the others have finished theirs.
describe('when the engine restarts', { skip: 'reason' in dockerd ? `skipped: ${dockerd.reason}` : false }, () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  let model: AgentsModel;
  const prefix = idPrefix('restart');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('restart');
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'R', email: 'r@example.com' } });
    model = new AgentsModel({ agents: core.agents, creator: core.creator, engine });
  });

  after(async () => {
    model?.dispose();
    core?.dispose();
    await removeAgents(engine, prefix);
    await server?.stop().catch(() => undefined);
  });

  it('brings agents back running, reconnects the model, and runs the next git command once', async () => {
    await core.creator.create({ id: id('snap'), repoUrl: server.url('restart') });
    await core.creator.create({ id: id('remote'), repoUrl: server.url('restart'), strategy: 'remote' });
    await core.exec.git(id('snap'), ['commit', '--allow-empty', '-q', '-m', 'before the restart']);
    const head = (await core.exec.git(id('snap'), ['rev-parse', 'HEAD'])).stdout.trim();
    // A server in the agent, forwarded: after the restart the forward comes back on the same host port.
    const serve = (): Promise<unknown> => core.exec.run(id('snap'), ['sh', '-c', 'nohup python3 -m http.server 3000 --bind 0.0.0.0 >/dev/null 2>&1 &']);
    await serve();
    core.ports.start();
    await waitFor('the agent to listen on 3000', async () => (await core.ports.discover(id('snap'))).some((port) => port.port === 3000));
    const forward = await core.ports.forward(id('snap'), 3000);
    model.start();
    await waitFor('the model to list both agents ready', () => [id('snap'), id('remote')].every((agentId) => model.agents.find((a) => a.id === agentId)?.state === 'ready'), 15_000);

    let sawUnavailable = false;
    const watching = model.onDidChange(() => {
      sawUnavailable ||= model.engineStatus.kind === 'unavailable';
    });
    await restartDockerd(engine, dockerd as { pid: number; argv: string[] });
    const back = Date.now();
    await waitFor('both agents to be ready again in the model', () => model.engineStatus.kind === 'connected' && [id('snap'), id('remote')].every((agentId) => model.agents.find((a) => a.id === agentId)?.state === 'ready'), 30_000);
    watching.dispose();
    console.log(`  model reconnected and showed both agents ready ${Date.now() - back} ms after the engine answered`);
    assert.ok(sawUnavailable, 'the model said the engine was unavailable meanwhile');

    // The old channel died with the container: the next command opens a new one, and runs once.
    await core.exec.git(id('snap'), ['commit', '--allow-empty', '-q', '-m', 'after the restart']);
    const log = (await core.exec.git(id('snap'), ['log', '--format=%s', `${head}~1..HEAD`])).stdout.trim().split('\n');
    assert.deepEqual(log, ['after the restart', 'before the restart']);
    assert.equal((await core.exec.git(id('remote'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('remote')}`);

    await waitFor('the forward to come back', () => core.ports.forwards(id('snap')).some((f) => f.containerPort === 3000), 15_000);
    assert.equal(core.ports.forwards(id('snap'))[0]?.hostPort, forward.hostPort, 'the same host port: a preview finds its page where it was');
    await serve();
    await waitFor('the page through the forward', async () => (await httpGet(`${forward.url}/`).catch(() => '')).includes('Directory listing'), 15_000);
  });
});
