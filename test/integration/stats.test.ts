import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRunning } from '../../src/core/agent';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import type { Engine } from '../../src/core/docker/engine';
import { StatsSampler, type AgentStats } from '../../src/core/stats/statsSampler';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';

const MB = 1024 ** 2;

describe('resource stats of agents', () => {
  let engine: Engine;
  let server: GitServer;
  let service: GitisoCore;
  let sampler: StatsSampler;
  const prefix = idPrefix('stats');
  const id = (name: string): string => `${prefix}-${name}`;

  /** Samples every half second until `check` holds for the agent's stats (or fails after `timeoutMs`). */
  async function sampleUntil(agentId: string, what: string, check: (stats: AgentStats) => boolean, timeoutMs = 10_000): Promise<AgentStats> {
    const deadline = Date.now() + timeoutMs;
    let last: AgentStats | undefined;
    while (Date.now() < deadline) {
      last = (await sampler.sample()).get(agentId);
      if (last && check(last)) {
        return last;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`${what}: last sample ${JSON.stringify(last)}`);
  }

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('busy');
    service = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'S', email: 's@example.com' } });
    await service.creator.create({ id: id('busy'), repoUrl: server.url('busy') });
    sampler = new StatsSampler({ exec: service.exec, engine, runningAgents: async () => (await service.agents.list()).filter((agent) => isRunning(agent) && agent.id.startsWith(prefix)) }, { diskIntervalMs: 3_600_000 });
  });

  after(async () => {
    sampler?.dispose();
    await removeAgents(engine, prefix);
    await service?.snapshots.prune(0).catch(() => undefined);
    service?.dispose();
    await server?.stop();
  });

  it('shows a CPU burner above 50 % within seconds, and near 0 once it ends', async () => {
    const agent = await service.agents.get(id('busy'));
    await sampler.sample();
    await engine.spawnDetached(agent.containerId, ['timeout', '6', 'sh', '-c', 'while :; do :; done']);
    const busy = await sampleUntil(id('busy'), 'CPU above 50 %', (s) => s.cpuPercent > 50, 5_000);
    assert.ok(busy.cpuPercent <= 105, `one busy process on a 1-CPU limit used ${busy.cpuPercent} %`);
    await sampleUntil(id('busy'), 'CPU back near 0', (s) => s.cpuPercent < 5, 12_000);
  });

  it('holds a memory hog at its limit and counts the kill, without harm to gitiso', async () => {
    const hog = await service.exec.run(id('busy'), ['python3', '-c', 'b = bytearray(600 * 1024 * 1024); print(len(b))']);
    assert.equal(hog.exitCode, 137, 'the hog was not killed');
    const stats = await sampleUntil(id('busy'), 'an OOM kill counted', (s) => s.oomKills >= 1);
    assert.equal(stats.memoryLimitBytes, TEST_LIMITS.memoryBytes);
    assert.ok(stats.memoryBytes <= TEST_LIMITS.memoryBytes);
    assert.equal((await service.exec.git(id('busy'), ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim(), `gitiso/${id('busy')}`);
    assert.ok(stats.pids >= 1);
  });

  it('measures disk on demand: it grows after the agent writes 50 MB', async () => {
    sampler.measureDiskSoon();
    const before = (await sampler.sample()).get(id('busy'))?.diskBytes ?? 0;
    const write = await service.exec.run(id('busy'), ['sh', '-c', `head -c ${50 * MB} /dev/urandom > /workspace/big.bin`]);
    assert.equal(write.exitCode, 0, write.stderr);
    sampler.measureDiskSoon();
    const after = (await sampler.sample()).get(id('busy'))?.diskBytes ?? 0;
    assert.ok(after - before >= 50 * MB, `disk grew by ${after - before} bytes`);
  });

  it('forgets agents that stop', async () => {
    await service.agents.stop(id('busy'));
    assert.equal((await sampler.sample()).has(id('busy')), false);
    assert.deepEqual(sampler.history(id('busy')), []);
  });
});
