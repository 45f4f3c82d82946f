import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GitisoCore } from '../../src/core/gitisoCore';
import type { AgentWork, ChangedFile } from '../../src/core/roundTrip/roundTripTypes';
import { AgentChangesCache } from '../../src/vscode/review/agentChanges';

/** A round trip that counts its calls; the agent's state is `signature`, its changes `files`. */
function fakeRoundTrip(): { calls: { signature: number; bringHome: number }; state: { signature: string; files: ChangedFile[] }; roundTrip: GitisoCore['roundTrip'] } {
  const calls = { signature: 0, bringHome: 0 };
  const state = { signature: 'a', files: [] as ChangedFile[] };
  const roundTrip = {
    signature: async () => {
      calls.signature++;
      return state.signature;
    },
    bringHome: async (id: string): Promise<AgentWork> => {
      calls.bringHome++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { id, repoUrl: 'git://x/r.git', poolPath: '/pool/r.git', base: 'b'.repeat(40), head: 'c'.repeat(40), worktree: 'd'.repeat(40), bytes: 1 };
    },
    changes: async () => state.files,
  } as unknown as GitisoCore['roundTrip'];
  return { calls, state, roundTrip };
}

describe('AgentChangesCache', () => {
  it('shares a load that is running, and tells who listens', async () => {
    const { calls, state, roundTrip } = fakeRoundTrip();
    state.files = [{ path: 'a.txt', status: 'added', added: 1, removed: 0 }];
    const cache = new AgentChangesCache(() => roundTrip);
    const told: string[] = [];
    cache.onDidChange((id) => told.push(id));
    const [one, two] = await Promise.all([cache.load('x'), cache.load('x')]);
    assert.equal(one, two);
    assert.equal(calls.bringHome, 1);
    assert.deepEqual(told, ['x']);
    assert.deepEqual(cache.get('x')?.files, state.files);
  });

  it('brings the work home again only when the agent’s signature moved', async () => {
    const { calls, state, roundTrip } = fakeRoundTrip();
    const cache = new AgentChangesCache(() => roundTrip);
    assert.equal(await cache.refreshIfChanged('x'), false, 'an agent never loaded is not polled');
    assert.equal(calls.signature, 0);
    await cache.load('x');
    assert.equal(await cache.refreshIfChanged('x'), false);
    assert.equal(calls.bringHome, 1);
    state.signature = 'b';
    state.files = [{ path: 'b.txt', status: 'modified', added: 2, removed: 1 }];
    assert.equal(await cache.refreshIfChanged('x'), true);
    assert.equal(calls.bringHome, 2);
    assert.deepEqual(cache.get('x')?.files, state.files);
    cache.forgetAllBut(new Set());
    assert.equal(cache.get('x'), undefined);
  });
});
