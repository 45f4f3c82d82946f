import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agent } from '../../src/core/agent';
import { agentIdsOnEvery } from '../../src/core/apiProxy/agentApiAccess';

const engineWith = (...ids: string[]): { agents: { list: () => Promise<Agent[]> } } => ({ agents: { list: async () => ids.map((id) => ({ id }) as Agent) } });

describe('the agents the key proxy keeps tokens for', () => {
  it('are those of every engine, and not known at all when one engine does not answer (nothing is taken for gone)', async () => {
    assert.deepEqual(await agentIdsOnEvery([engineWith('a1', 'a2'), engineWith('b1')]), ['a1', 'a2', 'b1']);
    const silent = { agents: { list: async (): Promise<Agent[]> => Promise.reject(new Error('does not answer')) } };
    assert.equal(await agentIdsOnEvery([engineWith('a1'), silent]), undefined);
  });
});
