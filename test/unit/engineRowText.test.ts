import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agent } from '../../src/core/agent';
import { engineRowText } from '../../src/vscode/views/engineRowText';

const GB = 2 ** 30;
const agent = (id: string, state: Agent['state'], memoryBytes: number): Agent => ({
  id, repoUrl: 'r', baseBranch: 'main', sessionBranch: `gitiso/${id}`, image: 'i', strategy: 'snapshot', containerId: id, createdAt: new Date(0), gitisoVersion: '1', state,
  limits: { memoryBytes, cpus: 1, pids: 100 },
});

describe('engine rows', () => {
  it('show the agents and the memory running agents reserve against the engine’s total', () => {
    const text = engineRowText({ name: 'big', address: 'ssh://me@big', status: { kind: 'connected' }, agents: [agent('a', 'ready', 4 * GB), agent('b', 'stopped', 4 * GB)], unreachable: 0, totalBytes: 16 * GB });
    assert.equal(text.description, '2 agents · 4 GB of 16 GB');
    assert.equal(text.contextValue, ';engine;');
  });

  it('say an engine does not answer, and how many of its agents are unreachable', () => {
    const text = engineRowText({ name: 'big', address: 'ssh://me@big', status: { kind: 'unavailable', message: 'ssh ended' }, agents: [], unreachable: 3 });
    assert.equal(text.description, 'not answering · 3 agents unreachable');
    assert.match(text.tooltip, /ssh ended/);
    assert.match(text.contextValue, /;unavailable;/);
  });
});
