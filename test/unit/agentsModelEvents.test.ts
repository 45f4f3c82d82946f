import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { Agent } from '../../src/core/agent';
import { AgentsModel } from '../../src/core/agentsModel';
import type { Engine } from '../../src/core/docker/engine';
import { SAMPLE_IDENTITY } from '../support/sampleAgent';

function agentOf(id: string, state: Agent['state']): Agent {
  return { ...SAMPLE_IDENTITY, id, sessionBranch: `gitiso/${id}`, containerId: `c-${id}`, gitisoVersion: '0.1.0', state };
}

/** A model over an engine whose events the test writes, counting what it asks of the agents. */
function watchedModel(initial: Agent[]): { model: AgentsModel; stream: PassThrough; engineAgents: Map<string, Agent>; asked: { lists: number; inspected: string[] } } {
  const stream = new PassThrough();
  const engineAgents = new Map(initial.map((agent) => [agent.containerId, agent]));
  const asked = { lists: 0, inspected: [] as string[] };
  const agents = {
    list: async () => {
      asked.lists++;
      return [...engineAgents.values()];
    },
    agentOf: async (containerId: string) => {
      asked.inspected.push(containerId);
      return engineAgents.get(containerId);
    },
  };
  const engine = { containerEvents: async () => stream } as unknown as Engine;
  const creator = { createMany: async () => [] };
  return { model: new AgentsModel({ agents, creator, engine }), stream, engineAgents, asked };
}

const event = (containerId: string, action: string): string => `${JSON.stringify({ Action: action, Actor: { ID: containerId } })}\n`;
const settled = (model: AgentsModel, holds: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    const listener = model.onDidChange(() => holds() && (listener.dispose(), resolve()));
  });

describe('AgentsModel following engine events', () => {
  it('lists once when the events stream connects, then reads only the container of each event', async () => {
    const { model, stream, engineAgents, asked } = watchedModel(Array.from({ length: 20 }, (_, k) => agentOf(`a${k}`, 'ready')));
    const listed = settled(model, () => model.agents.length === 20);
    model.start();
    await listed;
    assert.equal(asked.lists, 1, 'one listing at the start');

    engineAgents.set('c-a7', agentOf('a7', 'stopped'));
    const stopped = settled(model, () => model.agents.find((agent) => agent.id === 'a7')?.state === 'stopped');
    stream.write(event('c-a7', 'die'));
    await stopped;
    assert.deepEqual(asked.inspected, ['c-a7']);
    assert.equal(asked.lists, 1, 'an event of one container lists no other');

    engineAgents.delete('c-a3');
    const gone = settled(model, () => !model.agents.some((agent) => agent.id === 'a3'));
    stream.write(event('c-a3', 'destroy'));
    await gone;
    assert.deepEqual(asked.inspected, ['c-a7'], 'a destroyed container is dropped without asking');
    assert.equal(model.agents.length, 19);
    model.dispose();
  });

  it('lists all again for a burst of many containers and for a line it cannot read', async () => {
    const { model, stream, asked } = watchedModel(Array.from({ length: 40 }, (_, k) => agentOf(`a${k}`, 'ready')));
    const listed = settled(model, () => model.agents.length === 40);
    model.start();
    await listed;
    const burst = Array.from({ length: 30 }, (_, k) => event(`c-a${k}`, 'stop')).join('');
    stream.write(event('c-a0', 'die')); // after a quiet spell: at once
    stream.write(burst); // the rest of the burst: at the window's end, as one listing
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(asked.lists, 2, 'the burst was one listing');
    assert.deepEqual(asked.inspected, ['c-a0']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    stream.write('garbage\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(asked.lists, 3);
    model.dispose();
  });

  it('shows a container that died as stopped at once, from the event, before its inspect answers', async () => {
    const { model, stream, engineAgents, asked } = watchedModel([agentOf('a1', 'ready'), agentOf('a2', 'ready')]);
    const listed = settled(model, () => model.agents.length === 2);
    model.start();
    await listed;
    engineAgents.set('c-a1', { ...agentOf('a1', 'error'), reason: 'killed by the engine: out of memory' });
    const errored = settled(model, () => model.agents[0]?.state === 'error');
    stream.write(`${JSON.stringify({ Action: 'die', Actor: { ID: 'c-a1', Attributes: { exitCode: '137' } } })}\n`);
    // Synchronously: the event alone.
    assert.deepEqual(model.agents.map((agent) => [agent.id, agent.state, agent.reason]), [['a1', 'stopped', 'Exited (137)'], ['a2', 'ready', undefined]]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(asked.inspected, ['c-a1'], 'the inspect still follows');
    await errored;
    assert.equal(model.agents[0]?.reason, 'killed by the engine: out of memory', 'what only the inspect knows comes with it');
    model.dispose();
  });
});
