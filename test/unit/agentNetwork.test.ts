import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentNetworkError, InvalidInputError } from '../../src/core/errors';
import type { Logger } from '../../src/core/logger';
import { silentLogger } from '../../src/core/logger';
import { AgentNetwork } from '../../src/core/network/agentNetwork';
import { BRIDGE_OPTION, GITISO_NETWORK, gitisoBridgeName, networkChoice } from '../../src/core/network/networkSetting';
import { MemoryEngine, memoryNetwork } from '../support/memoryEngine';

function warnings(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: { ...silentLogger, warn: (message: string | Error) => lines.push(String(message)) }, lines };
}

describe('the network setting', () => {
  it('means gitiso\'s own network when empty, or when it names it', () => {
    for (const setting of [undefined, '', '  ', GITISO_NETWORK]) {
      assert.deepEqual(networkChoice(setting), { kind: 'isolated' });
    }
    assert.deepEqual(networkChoice('my-net'), { kind: 'named', name: 'my-net' });
  });

  it('refuses the modes that undo isolation, naming the setting and what to do', () => {
    for (const setting of ['host', 'HOST', 'none', 'container:db', 'container:', 'bridge', 'default']) {
      assert.throws(() => networkChoice(setting), (error: Error) => error instanceof InvalidInputError && /the gitiso\.network setting \(--network, GITISO_NETWORK\)/.test(error.message) && /leave it empty/.test(error.message), setting);
    }
  });
});

describe('AgentNetwork', () => {
  it('makes gitiso\'s own network on first use, with containers unable to reach each other, and reuses it', async () => {
    const engine = new MemoryEngine();
    const network = new AgentNetwork({ engine });
    const [first, second] = await Promise.all([network.resolve(), network.resolve()]);
    assert.equal(first, `net-${GITISO_NETWORK}`);
    assert.equal(second, first);
    const made = engine.networks.get(GITISO_NETWORK);
    assert.equal(made?.Options?.[BRIDGE_OPTION.icc], 'false');
    assert.equal(made?.Options?.[BRIDGE_OPTION.name], gitisoBridgeName(await engine.engineId()), 'the bridge is named after the engine');
    assert.equal(await network.resolve(), first);
  });

  it('names the bridge after the engine, so two engines on one machine never share one; within an interface name\'s 15 characters', () => {
    // Two dockerds of one machine may share an id (Docker 20.10 takes it from /etc/docker/key.json): their data roots differ.
    const names = ['WXYZ:ABCD:2345 /var/lib/docker', 'WXYZ:ABCD:2345 /var/lib/docker-two', '3f1c0a5e-77d2-4c1b-9a51-0c0ffee00001 /var/lib/docker'].map(gitisoBridgeName);
    assert.equal(new Set(names).size, 3, names.join(', '));
    assert.ok(names.every((name) => /^gitiso-[0-9a-f]{8}$/.test(name)), names.join(', '));
    assert.equal(gitisoBridgeName('WXYZ:ABCD:2345 /var/lib/docker'), names[0], 'the same engine, the same name');
    // An engine that says nothing of itself gets the old fixed name; whatever it says never reaches the name as it is.
    assert.equal(gitisoBridgeName(''), 'gitiso0');
    assert.match(gitisoBridgeName('$(reboot); ../../x'), /^gitiso-[0-9a-f]{8}$/);
  });

  it('makes it again when it was removed since', async () => {
    const engine = new MemoryEngine();
    const network = new AgentNetwork({ engine });
    await network.resolve();
    engine.networks.delete(GITISO_NETWORK);
    assert.equal(await network.resolve(), `net-${GITISO_NETWORK}`);
    assert.equal(engine.networks.get(GITISO_NETWORK)?.Options?.[BRIDGE_OPTION.icc], 'false');
  });

  it('uses the one another process made first', async () => {
    const engine = new MemoryEngine();
    let raced = false;
    const inspect = engine.inspectNetwork.bind(engine);
    // The other process makes it between this one's look and its make.
    engine.inspectNetwork = async (name) => {
      const found = await inspect(name);
      if (!found && !raced) {
        raced = true;
        await engine.createNetwork({ Name: GITISO_NETWORK, Options: { [BRIDGE_OPTION.icc]: 'false' } });
      }
      return found;
    };
    assert.equal(await new AgentNetwork({ engine }).resolve(), `net-${GITISO_NETWORK}`);
  });

  it('refuses a network of gitiso\'s name that lets containers reach each other', async () => {
    const engine = new MemoryEngine();
    engine.networks.set(GITISO_NETWORK, memoryNetwork({ Name: GITISO_NETWORK }));
    await assert.rejects(new AgentNetwork({ engine }).resolve(), (error: Error) => error instanceof AgentNetworkError && /docker network rm gitiso/.test(error.message));
  });

  it('says why when the engine cannot make it', async () => {
    const engine = new MemoryEngine();
    engine.createNetwork = async () => {
      throw new Error('no free address pool');
    };
    await assert.rejects(new AgentNetwork({ engine }).resolve(), (error: Error) => error instanceof AgentNetworkError && /could not make Docker network 'gitiso'.*no free address pool/.test(error.message));
  });

  it('uses a network of the user\'s as it is, and warns once when agents on it can reach each other', async () => {
    const engine = new MemoryEngine();
    engine.networks.set('open', memoryNetwork({ Name: 'open' }));
    engine.networks.set('closed', memoryNetwork({ Name: 'closed', Options: { [BRIDGE_OPTION.icc]: 'false' } }));
    const open = warnings();
    const network = new AgentNetwork({ engine, setting: 'open', log: open.log });
    assert.equal(await network.resolve(), 'net-open');
    assert.equal(await network.resolve(), 'net-open');
    assert.equal(open.lines.length, 1);
    assert.match(open.lines[0] ?? '', /agents on Docker network 'open' can reach each other's ports/);
    const closed = warnings();
    assert.equal(await new AgentNetwork({ engine, setting: 'closed', log: closed.log }).resolve(), 'net-closed');
    assert.deepEqual(closed.lines, []);
    assert.equal(engine.networks.has(GITISO_NETWORK), false, 'a user\'s network makes no other');
  });

  it('refuses the host, none and default-bridge networks named by their ids, and a missing network', async () => {
    const engine = new MemoryEngine();
    for (const id of ['net-host', 'net-none', 'net-bridge']) {
      await assert.rejects(new AgentNetwork({ engine, setting: id }).resolve(), (error: Error) => error instanceof InvalidInputError && error.message.includes(`'${id}'`), id);
    }
    await assert.rejects(new AgentNetwork({ engine, setting: 'gone' }).resolve(), /Docker network 'gone' does not exist/);
  });
});
