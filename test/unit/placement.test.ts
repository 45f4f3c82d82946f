import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agent } from '../../src/core/agent';
import type { AgentsModel, EngineStatus } from '../../src/core/agentsModel';
import { Emitter } from '../../src/core/base/event';
import { AgentsAcrossEngines } from '../../src/core/engines/agentsAcrossEngines';
import { placeAgents, placementText } from '../../src/core/engines/placement';

const GB = 2 ** 30;

describe('placement on any engine', () => {
  it('picks the engine that admits the agents with the most memory left', () => {
    const engines = [
      { name: 'local', answers: true, reservedBytes: 12 * GB, totalBytes: 16 * GB, askedBytes: 4 * GB },
      { name: 'big', answers: true, reservedBytes: 8 * GB, totalBytes: 64 * GB, askedBytes: 4 * GB },
      { name: 'down', answers: false, reservedBytes: 0, totalBytes: 128 * GB, askedBytes: 4 * GB },
    ];
    assert.deepEqual(placeAgents(engines, 2), { name: 'big', leftBytes: 48 * GB });
    assert.equal(placementText({ name: 'big', leftBytes: 48 * GB }), 'on big (48 GB left)');
  });

  it('leaves out an engine nearly full (the agents would not fit), and one that does not answer', () => {
    const engines = [
      { name: 'local', answers: true, reservedBytes: 15 * GB, totalBytes: 16 * GB, askedBytes: 2 * GB },
      { name: 'other', answers: true, reservedBytes: 0, totalBytes: 8 * GB, askedBytes: 2 * GB },
    ];
    assert.equal(placeAgents(engines, 1)?.name, 'other');
    assert.equal(placeAgents(engines.map((engine) => ({ ...engine, askedBytes: 9 * GB })), 1), undefined, 'nowhere fits: the caller asks the user');
    assert.equal(placeAgents([{ name: 'down', answers: false, reservedBytes: 0, totalBytes: 8 * GB, askedBytes: GB }], 1), undefined);
  });

  it('weighs what each engine would give the agents (its own limits)', () => {
    const engines = [
      { name: 'local', answers: true, reservedBytes: 0, totalBytes: 16 * GB, askedBytes: 12 * GB },
      { name: 'small', answers: true, reservedBytes: 0, totalBytes: 8 * GB, askedBytes: 2 * GB },
    ];
    assert.deepEqual(placeAgents(engines, 1), { name: 'small', leftBytes: 6 * GB });
  });

  it('gives ties to the engine named first', () => {
    const same = { answers: true, reservedBytes: 0, totalBytes: 8 * GB, askedBytes: GB };
    assert.equal(placeAgents([{ name: 'a', ...same }, { name: 'b', ...same }], 1)?.name, 'a');
  });
});

function fakeModel(agents: Agent[], status: EngineStatus = { kind: 'connected' }) {
  const changed = new Emitter<void>();
  const model = { agents, engineStatus: status, unreachableAgents: [] as Agent[], listedAt: 1, progressOf: () => undefined, refresh: async () => undefined, onDidChange: changed.event };
  return { model, changed, asModel: model as unknown as AgentsModel };
}

function agent(id: string): Agent {
  return { id, repoUrl: 'r', baseBranch: 'main', sessionBranch: `gitiso/${id}`, image: 'i', strategy: 'snapshot', containerId: `c-${id}`, createdAt: new Date(0), gitisoVersion: '1', state: 'ready' };
}

describe('agents across engines', () => {
  it('lists every engine’s agents and knows each one’s engine', () => {
    const local = fakeModel([agent('a1'), agent('a2')]);
    const big = fakeModel([agent('b1')]);
    const across = new AgentsAcrossEngines([{ name: 'local', model: local.asModel }, { name: 'big', model: big.asModel }]);
    assert.deepEqual(across.agents.map((a) => a.id), ['a1', 'a2', 'b1']);
    assert.equal(across.engineOf('b1'), 'big');
    assert.deepEqual(across.agentsOn('local').map((a) => a.id), ['a1', 'a2']);
    big.model.agents = [agent('b1'), agent('b2')];
    big.changed.fire();
    assert.equal(across.engineOf('b2'), 'big');
  });

  it('shows an id once: a later engine’s agent of the same id is left out, so a command never reaches the wrong one', () => {
    const warnings: string[] = [];
    const local = fakeModel([agent('same')]);
    const big = fakeModel([agent('same'), agent('b1')]);
    const across = new AgentsAcrossEngines([{ name: 'local', model: local.asModel }, { name: 'big', model: big.asModel }], { ...console, debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined });
    assert.deepEqual(across.agents.map((a) => `${a.id}@${across.engineOf(a.id)}`), ['same@local', 'b1@big']);
    assert.match(warnings.join('\n'), /'same' is on the engines 'local' and 'big'/);
  });

  it('is connected while any engine answers; one down leaves the others alone', () => {
    const local = fakeModel([agent('a1')]);
    const down = fakeModel([], { kind: 'unavailable', message: 'no engine' });
    down.model.unreachableAgents = [agent('gone')];
    const across = new AgentsAcrossEngines([{ name: 'local', model: local.asModel }, { name: 'down', model: down.asModel }]);
    assert.equal(across.engineStatus.kind, 'connected');
    assert.equal(across.statusOf('down').kind, 'unavailable');
    assert.deepEqual(across.unreachableOn('down').map((a) => a.id), ['gone']);
    assert.deepEqual(across.agents.map((a) => a.id), ['a1']);
    local.model.engineStatus = { kind: 'unavailable', message: 'also' };
    assert.equal(across.engineStatus.kind, 'unavailable');
  });
});
