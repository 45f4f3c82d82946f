import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecStreamEngine } from '../../src/core/docker/execStream';
import { ExecRelays } from '../../src/core/ports/execRelay';

/** A probe that answers with `answers` in turn, counting its calls; no engine is used until a connection opens. */
function relaysProbing(...answers: string[]): { relays: ExecRelays; probes: () => number } {
  let calls = 0;
  const exec = {
    probe: async () => {
      const stdout = answers[Math.min(calls, answers.length - 1)] ?? '';
      calls++;
      return { exitCode: 0, stdout, stderr: '' };
    },
  };
  return { relays: new ExecRelays({ engine: {} as ExecStreamEngine, exec }), probes: () => calls };
}

describe('exec relays: which program relays an agent\'s forwards', () => {
  it('asks the container once per agent, and again once the agent is forgotten', async () => {
    const { relays, probes } = relaysProbing('python3\n');
    const first = await relays.target('a1', 'c1', 3000);
    await relays.target('a1', 'c1', 5173);
    assert.equal(probes(), 1);
    assert.equal(first.kind, 'exec');
    assert.match(first.kind === 'exec' ? first.describe : '', /python3/);
    relays.forget('a1');
    await relays.target('a1', 'c1', 3000);
    assert.equal(probes(), 2);
  });

  it('says what to install when the container has none, and asks again next time (the user may have installed one)', async () => {
    const { relays, probes } = relaysProbing('', 'socat\n');
    await assert.rejects(relays.target('a1', 'c1', 3000), /install socat/);
    const target = await relays.target('a1', 'c1', 3000);
    assert.match(target.kind === 'exec' ? target.describe : '', /socat/);
    assert.equal(probes(), 2);
  });

  it('refuses a port that is not one before anything runs in the container', async () => {
    const { relays } = relaysProbing('socat\n');
    await assert.rejects(relays.target('a1', 'c1', 70_000), /not a TCP port/);
  });
});
