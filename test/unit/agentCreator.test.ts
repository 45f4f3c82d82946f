import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Agent } from '../../src/core/agent';
import { AgentCreator } from '../../src/core/create/agentCreator';
import type { AgentStarter, StartPlan } from '../../src/core/create/agentStarter';
import { AgentExistsError, CancelledError, InvalidInputError } from '../../src/core/errors';
import { AdmissionError, validateLimits, type AgentLimits } from '../../src/core/limits/agentLimits';
import { silentLogger } from '../../src/core/logger';
import { MemoryEngine } from '../support/memoryEngine';
import { AgentNetwork } from '../../src/core/network/agentNetwork';

const REPO = 'git://server/repo.git';

/** A starter that records its plans and makes a container (or fails for the ids it is told to). */
class RecordingStarter implements AgentStarter {
  readonly plans: StartPlan[] = [];
  constructor(
    private readonly engine: MemoryEngine,
    private readonly failFor = new Set<string>(),
  ) {}

  async start(plan: StartPlan): Promise<void> {
    this.plans.push(plan);
    if (this.failFor.has(plan.id)) {
      throw new Error(`clone of ${plan.id} failed`);
    }
    await this.engine.createContainer({ name: `gitiso-${plan.id}`, Image: plan.image });
  }
}

function creator(options: { starter?: (engine: MemoryEngine) => AgentStarter; admit?: (count: number) => void; network?: string } = {}) {
  const engine = new MemoryEngine();
  const starter = options.starter?.(engine) ?? new RecordingStarter(engine);
  const admitted: number[] = [];
  const created = new AgentCreator({
    engine,
    agents: { get: async (id) => ({ id, sessionBranch: `gitiso/${id}` }) as Agent },
    admission: {
      limitsFor: async (requested?: Partial<AgentLimits>) => validateLimits({ memoryBytes: 256 * 1024 ** 2, ...requested }),
      admit: async (requests, force) => {
        if (!force) {
          admitted.push(requests.length);
          options.admit?.(requests.length);
        }
      },
    },
    network: new AgentNetwork({ engine, setting: options.network }),
    starters: { snapshot: starter, pool: starter, remote: starter },
    log: silentLogger,
    defaultImage: 'default-image',
    strategy: 'snapshot',
    identity: { name: 'N', email: 'n@example.com' },
  });
  return { engine, starter, creator: created, admitted };
}

describe('AgentCreator', () => {
  it('hands a checked request to the starter of its strategy, with the default image and the limits', async () => {
    const { creator: c, starter } = creator();
    const agent = await c.create({ id: 'a1', repoUrl: REPO, strategy: 'remote', limits: { cpus: 1 } });
    assert.equal(agent.id, 'a1');
    const [plan] = (starter as RecordingStarter).plans;
    assert.equal(plan?.strategy, 'remote');
    assert.equal(plan?.image, 'default-image');
    assert.equal(plan?.limits.cpus, 1);
    assert.equal(plan?.baseBranch, '');
    assert.equal(plan?.network, 'net-gitiso', 'gitiso\'s own network, made on first use');
  });

  it('refuses bad input before anything is made', async () => {
    const { creator: c, engine } = creator();
    await assert.rejects(c.create({ id: 'bad id', repoUrl: REPO }), InvalidInputError);
    await assert.rejects(c.create({ id: 'a1', repoUrl: 'https://user:secret@example.com/r.git' }), /credentials/);
    await assert.rejects(c.create({ id: 'a1', repoUrl: REPO, baseBranch: 'bad..branch' }), InvalidInputError);
    assert.equal(engine.containers.size, 0);
  });

  it('refuses an ext:: repository URL with a clear error, and nothing runs', async () => {
    const { creator: c, engine, starter } = creator();
    const pwned = join(tmpdir(), `gitiso-pwned-${process.pid}`);
    await assert.rejects(c.create({ id: 'a1', repoUrl: `ext::sh -c touch% ${pwned}` }), (error: Error) => error instanceof InvalidInputError && /'ext::' transport, which gitiso does not allow: use https:\/\//.test(error.message));
    assert.equal((starter as RecordingStarter).plans.length, 0);
    assert.equal(engine.containers.size, 0);
    assert.equal(existsSync(pwned), false);
  });

  it('refuses an id whose container exists, without starting anything', async () => {
    const { creator: c, engine, starter } = creator();
    await engine.createContainer({ name: 'gitiso-a1' });
    await assert.rejects(c.create({ id: 'a1', repoUrl: REPO }), AgentExistsError);
    assert.equal((starter as RecordingStarter).plans.length, 0);
  });

  it('admits a burst once, as a whole, and makes nothing when it is refused', async () => {
    const refuse = (count: number): void => {
      throw new AdmissionError(`${count} agents of 2 GB do not fit`);
    };
    const { creator: c, engine, admitted } = creator({ admit: refuse });
    await assert.rejects(c.createMany([1, 2, 3].map((n) => ({ id: `a${n}`, repoUrl: REPO }))), AdmissionError);
    assert.deepEqual(admitted, [3]);
    assert.equal(engine.containers.size, 0);
  });

  it('reports each agent of a burst by its id: one failure neither stops nor undoes the others', async () => {
    const { creator: c, engine, admitted } = creator({ starter: (e) => new RecordingStarter(e, new Set(['a2'])) });
    const settled: string[] = [];
    const outcomes = await c.createMany([1, 2, 3].map((n) => ({ id: `a${n}`, repoUrl: REPO })), { concurrency: 2, onSettled: (o) => settled.push(o.id) });
    assert.deepEqual(outcomes.map((o) => ('agent' in o ? `${o.id} ok` : `${o.id} ${o.error.message}`)), ['a1 ok', 'a2 clone of a2 failed', 'a3 ok']);
    assert.deepEqual(settled.sort(), ['a1', 'a2', 'a3']);
    assert.deepEqual(admitted, [3], 'admitted once for the burst, not again per agent');
    assert.equal(engine.containers.size, 2);
  });

  it('begins no further agent of a burst once cancelled', async () => {
    const abort = new AbortController();
    const { creator: c } = creator({
      starter: (engine) => ({
        start: async (plan) => {
          abort.abort(); // the user cancels while the first one is made
          await new RecordingStarter(engine).start(plan);
        },
      }),
    });
    const outcomes = await c.createMany([1, 2, 3].map((n) => ({ id: `a${n}`, repoUrl: REPO })), { concurrency: 1, signal: abort.signal });
    assert.ok('agent' in (outcomes[0] ?? {}));
    assert.ok(outcomes.slice(1).every((o) => 'error' in o && o.error instanceof CancelledError));
  });

  it('lets only one of two concurrent creates of one id in this process go ahead', async () => {
    let release: () => void = () => undefined;
    const { creator: c } = creator({ starter: (engine) => ({ start: async (plan) => {
      await new Promise<void>((resolve) => (release = resolve));
      await engine.createContainer({ name: `gitiso-${plan.id}` });
    } }) });
    const first = c.create({ id: 'a1', repoUrl: REPO });
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(c.create({ id: 'a1', repoUrl: REPO }), AgentExistsError);
    release();
    assert.equal((await first).id, 'a1');
  });
  it('refuses what a repository proposes unless a policy allows it, and asks once per burst', async () => {
    const proposal = { repoUrl: REPO, fileId: 'blob', install: 'npm ci', copy: ['.env'] };
    const answers: boolean[] = [];
    const { creator: c } = creator({ starter: (engine) => ({ start: async (plan) => {
      answers.push(await plan.consent(proposal));
      await engine.createContainer({ name: `gitiso-${plan.id}` });
    } }) });
    await c.create({ id: 'a1', repoUrl: REPO });
    assert.deepEqual(answers, [false], 'no policy: refused');
    let asked = 0;
    await c.createMany([2, 3, 4].map((n) => ({ id: `a${n}`, repoUrl: REPO })), { concurrency: 2, consent: async () => (asked++, true) });
    assert.equal(asked, 1);
    assert.deepEqual(answers, [false, true, true, true]);
  });

  for (const network of ['host', 'none', 'container:other', 'bridge', 'default']) {
    it(`refuses the network '${network}' before anything is made, alone or in a burst`, async () => {
      const { creator: c, engine, starter, admitted } = creator({ network });
      const refused = (error: Error): boolean => error instanceof InvalidInputError && error.message.includes('gitiso.network') && error.message.includes(`'${network}'`);
      await assert.rejects(c.create({ id: 'a1', repoUrl: REPO }), refused);
      await assert.rejects(c.createMany([{ id: 'a1', repoUrl: REPO }, { id: 'a2', repoUrl: REPO }]), refused);
      assert.deepEqual((starter as RecordingStarter).plans, []);
      assert.deepEqual(admitted, [], 'refused before admission');
      assert.equal(engine.containers.size, 0);
    });
  }

  it('refuses the default bridge named by its id, and a network that does not exist', async () => {
    const byId = creator({ network: 'net-bridge' });
    await assert.rejects(byId.creator.create({ id: 'a1', repoUrl: REPO }), /gitiso\.network.*'net-bridge', the engine's 'bridge' network/);
    const missing = creator({ network: 'no-such-net' });
    await assert.rejects(missing.creator.create({ id: 'a1', repoUrl: REPO }), /Docker network 'no-such-net' does not exist: create it, or change the gitiso\.network setting/);
    assert.equal(byId.engine.containers.size + missing.engine.containers.size, 0);
  });
});
