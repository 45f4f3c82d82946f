import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agent } from '../../src/core/agent';
import type { AgentExec } from '../../src/core/agentExec';
import type { Engine } from '../../src/core/docker/engine';
import { StatsSampler } from '../../src/core/stats/statsSampler';
import { SAMPLE_IDENTITY } from '../support/sampleAgent';

const agent: Agent = { ...SAMPLE_IDENTITY, containerId: 'c1', gitisoVersion: '0.1.0', state: 'ready' };

/** A sampler whose probes fail as `probe` says, counting the engine stats requests it falls back to. */
function samplerWith(probe: (signal: AbortSignal | undefined) => Promise<never>): { sampler: StatsSampler; engineStats: () => number } {
  let engineStats = 0;
  const exec = { probe: (_id: string, _argv: readonly string[], options: { signal?: AbortSignal }) => probe(options.signal) } as unknown as AgentExec;
  const engine = {
    statsOnce: async () => {
      engineStats++;
      return { cpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: 1 } };
    },
    listContainers: async () => [],
  } as unknown as Pick<Engine, 'statsOnce' | 'listContainers'>;
  const sampler = new StatsSampler({ exec, engine, runningAgents: () => [agent] }, { diskIntervalMs: 3_600_000 });
  return { sampler, engineStats: () => engineStats };
}

describe('StatsSampler', () => {
  it('falls back to the engine\'s stats when the agent\'s channel fails', async () => {
    const { sampler, engineStats } = samplerWith(async () => {
      throw new Error('no head in this image');
    });
    const figures = await sampler.sample();
    assert.equal(engineStats(), 1);
    assert.ok(figures.has(agent.id));
    sampler.dispose();
  });

  it('asks the engine nothing more when its round was stopped: disposed during a round (a change of engine), it stops', async () => {
    const { sampler, engineStats } = samplerWith(
      (signal) =>
        new Promise<never>((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        }),
    );
    const round = sampler.sample();
    await new Promise((resolve) => setTimeout(resolve, 20));
    sampler.dispose();
    const figures = await round;
    assert.equal(engineStats(), 0, 'no engine stats request for a round that was stopped');
    assert.equal(figures.size, 0);
  });
});
