import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import { AdmissionError } from '../../src/core/limits/agentLimits';
import { containerNameFor } from '../../src/core/names';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_NETWORK, testEngine, testImage, TEST_LIMITS } from '../support/testEnv';

describe('agent limits, budget and admission control', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  const prefix = idPrefix('limits');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('budget');
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'L', email: 'l@example.com' } });
  });

  after(async () => {
    await removeAgents(engine, prefix);
    await service?.snapshots.prune(0).catch(() => undefined);
    service?.dispose();
    await server?.stop();
  });

  it('applies the limits and tells the agent its budget (environment and file)', async () => {
    const limits = { memoryBytes: 256 * 1024 ** 2, cpus: 0.5, pids: 128 };
    await service.creator.create({ id: id('small'), repoUrl: server.url('budget'), limits });
    const info = await engine.inspectContainer(containerNameFor(id('small')));
    assert.equal(info?.HostConfig.Memory, limits.memoryBytes);
    assert.equal(info?.HostConfig.NanoCpus, 500_000_000);
    assert.equal(info?.HostConfig.PidsLimit, 128);
    const env = await service.exec.run(id('small'), ['sh', '-c', 'echo "$GITISO_CPUS $GITISO_MEMORY_BYTES $GITISO_PIDS"']);
    assert.equal(env.stdout.trim(), `0.5 ${limits.memoryBytes} 128`);
    const file = await service.exec.run(id('small'), ['cat', '/etc/gitiso/budget.json']);
    assert.deepEqual(JSON.parse(file.stdout), { cpus: 0.5, memoryBytes: limits.memoryBytes, pids: 128 });
    assert.equal((await service.exec.git(id('small'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('small')}`);
  });

  it('changes a running agent\'s limits in place and rewrites its budget file', async () => {
    const limits = await service.agents.updateLimits(id('small'), { memoryBytes: 512 * 1024 ** 2, cpus: 1 });
    assert.deepEqual(limits, { memoryBytes: 512 * 1024 ** 2, cpus: 1, pids: 128 });
    const info = await engine.inspectContainer(containerNameFor(id('small')));
    assert.equal(info?.HostConfig.Memory, 512 * 1024 ** 2);
    assert.equal(info?.HostConfig.NanoCpus, 1e9);
    const file = await service.exec.run(id('small'), ['cat', '/etc/gitiso/budget.json']);
    assert.deepEqual(JSON.parse(file.stdout), { cpus: 1, memoryBytes: 512 * 1024 ** 2, pids: 128 });
    const cgroup = await service.exec.run(id('small'), ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    assert.equal(Number(cgroup.stdout), 512 * 1024 ** 2, 'the cgroup did not change');
    await assert.rejects(service.agents.updateLimits(id('small'), { cpus: 0 }), /at least 0.1 CPUs/);
  });

  it('refuses a burst that does not fit the engine\'s memory, makes nothing, and accepts it with force', async () => {
    const { memoryBytes: total } = await engine.capacity();
    assert.ok(total > 0);
    const big = { memoryBytes: Math.floor(total * 0.6) };
    const requests = ['big-1', 'big-2'].map((name) => ({ id: id(name), repoUrl: server.url('budget'), limits: big }));
    await assert.rejects(service.creator.createMany(requests), (error: unknown) => error instanceof AdmissionError && /^2 agents of .* do not fit: .* already reserved/.test(error.message));
    assert.equal(await engine.inspectContainer(containerNameFor(id('big-1'))), undefined, 'a refused create left a container');
    await assert.rejects(service.creator.create({ id: id('huge'), repoUrl: server.url('budget'), limits: { memoryBytes: total * 2 } }), /^.*1 agent of .* does not fit/);
    assert.equal(await engine.inspectContainer(containerNameFor(id('huge'))), undefined, 'a refused create left a container');
    const outcomes = await service.creator.createMany(requests, { force: true });
    assert.deepEqual(outcomes.map((o) => ('agent' in o ? o.agent.state : o.error.message)), ['ready', 'ready']);
  });
});
