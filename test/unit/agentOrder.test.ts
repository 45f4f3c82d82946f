import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agent, AgentState } from '../../src/core/agent';
import { mergeCreating, sortAgents } from '../../src/core/agentOrder';
import { AgentsModel } from '../../src/core/agentsModel';
import type { CreateManyHooks, CreateOutcome, CreateRequest } from '../../src/core/create/createRequest';
import type { Engine } from '../../src/core/docker/engine';
import { SAMPLE_IDENTITY } from '../support/sampleAgent';

function agentOf(id: string, state: AgentState, createdAt = 0): Agent {
  return { ...SAMPLE_IDENTITY, id, sessionBranch: `gitiso/${id}`, createdAt: new Date(createdAt), containerId: `c-${id}`, gitisoVersion: '0.1.0', state };
}

describe('sortAgents', () => {
  it('lists the oldest first, then by id with numbers in their numeric order', () => {
    const agents = [agentOf('agent-10', 'ready', 5), agentOf('agent-3', 'ready', 5), agentOf('old', 'ready', 1), agentOf('agent-2', 'ready', 5)];
    assert.deepEqual(sortAgents(agents).map((agent) => agent.id), ['old', 'agent-2', 'agent-3', 'agent-10']);
  });

  it('keeps a batch in its ids order by its start, whatever times the engine gives its agents', () => {
    const agents = [agentOf('b-4', 'ready', 30), agentOf('b-2', 'ready', 40), agentOf('b-3', 'ready', 20), agentOf('first', 'ready', 5)];
    const startedAt = new Map([['b-2', 10], ['b-3', 10], ['b-4', 10]]);
    assert.deepEqual(sortAgents(agents, startedAt).map((agent) => agent.id), ['first', 'b-2', 'b-3', 'b-4']);
  });

  it('gives the same order for any order of its input', () => {
    const agents = [agentOf('x', 'ready', 1), agentOf('y', 'ready', 1), agentOf('z', 'stopped', 0)];
    assert.deepEqual(sortAgents([...agents].reverse()).map((agent) => agent.id), sortAgents(agents).map((agent) => agent.id));
  });
});

describe('mergeCreating', () => {
  it('shows a container not started yet as creating, anything else as the engine says', () => {
    assert.equal(mergeCreating({ ...agentOf('a', 'stopped'), reason: 'Created' }).state, 'creating');
    assert.equal(mergeCreating({ ...agentOf('a', 'stopped'), reason: 'Created' }).reason, undefined);
    assert.equal(mergeCreating(agentOf('a', 'error')).state, 'error');
    assert.equal(mergeCreating(agentOf('a', 'ready')).state, 'ready');
  });
});

/** An engine list the test sets, and a creator whose creates the test settles. */
function modelWith(): { model: AgentsModel; setEngine(agents: Agent[]): void; settle(outcome: CreateOutcome): void; started: Promise<void> } {
  let engineAgents: Agent[] = [];
  let hooksOf: CreateManyHooks = {};
  let finish: (outcomes: CreateOutcome[]) => void = () => undefined;
  let onStarted: () => void = () => undefined;
  let requestCount = 0;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const outcomes: CreateOutcome[] = [];
  const creator = {
    createMany: (requests: readonly CreateRequest[], hooks: CreateManyHooks = {}): Promise<CreateOutcome[]> => {
      hooksOf = hooks;
      requestCount = requests.length;
      onStarted();
      return new Promise((resolve) => (finish = resolve));
    },
  };
  const agents = { list: () => Promise.resolve(engineAgents), agentOf: (containerId: string) => Promise.resolve(engineAgents.find((agent) => agent.containerId === containerId)) };
  const model = new AgentsModel({ agents, creator, engine: {} as Engine });
  return {
    model,
    started,
    setEngine: (agents) => (engineAgents = agents),
    settle: (outcome) => {
      outcomes.push(outcome);
      hooksOf.onSettled?.(outcome);
      if (outcomes.length === requestCount) {
        finish(outcomes);
      }
    },
  };
}

describe('AgentsModel while it creates', () => {
  it('never shows an agent being created as stopped, and keeps the batch in order', async () => {
    const { model, setEngine, settle, started } = modelWith();
    const requests = ['agent-2', 'agent-3', 'agent-4'].map((id) => ({ id, repoUrl: 'git://h/r.git' }));
    const creating = model.createMany(requests);
    await started;
    assert.deepEqual(model.agents.map((agent) => [agent.id, agent.state]), [['agent-2', 'creating'], ['agent-3', 'creating'], ['agent-4', 'creating']]);
    // The engine lists agent-4's container first, created and not started: the engine's word is "stopped".
    setEngine([{ ...agentOf('agent-4', 'stopped', Date.now() + 5), reason: 'Created' }, agentOf('agent-2', 'creating', Date.now() + 9)]);
    await model.refresh();
    assert.deepEqual(model.agents.map((agent) => [agent.id, agent.state]), [['agent-2', 'creating'], ['agent-3', 'creating'], ['agent-4', 'creating']]);
    // agent-4 is ready, but the engine's list (not refreshed yet) still says stopped.
    settle({ id: 'agent-4', agent: agentOf('agent-4', 'ready', Date.now() + 5) });
    assert.deepEqual(model.agents.map((agent) => [agent.id, agent.state]), [['agent-2', 'creating'], ['agent-3', 'creating'], ['agent-4', 'ready']]);
    setEngine([agentOf('agent-4', 'ready', Date.now() + 5), agentOf('agent-3', 'ready', Date.now() + 1), agentOf('agent-2', 'ready', Date.now() + 9)]);
    settle({ id: 'agent-3', agent: agentOf('agent-3', 'ready', Date.now() + 1) });
    settle({ id: 'agent-2', agent: agentOf('agent-2', 'ready', Date.now() + 9) });
    await creating;
    assert.deepEqual(model.agents.map((agent) => [agent.id, agent.state]), [['agent-2', 'ready'], ['agent-3', 'ready'], ['agent-4', 'ready']]);
    model.dispose();
  });

  it('shows a stopped agent it is not creating as stopped', async () => {
    const { model, setEngine } = modelWith();
    setEngine([agentOf('other', 'stopped')]);
    await model.refresh();
    assert.equal(model.agents[0]?.state, 'stopped');
    model.dispose();
  });
});
