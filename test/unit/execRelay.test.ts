import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duplex } from 'node:stream';
import type { ExecSession } from '../../src/core/docker/engine';
import type { ExecStreamEngine } from '../../src/core/docker/execStream';
import { ExecRelays } from '../../src/core/ports/execRelay';
import { SPARES_PER_FORWARD } from '../../src/core/ports/warmRelays';

/** An engine whose execs never end by themselves: which were started, and which had their stdin ended (a spare told to stop). */
function recordingEngine(): { engine: ExecStreamEngine; execs: { argv: readonly string[]; stdinEnded: boolean }[] } {
  const execs: { argv: readonly string[]; stdinEnded: boolean }[] = [];
  const engine: ExecStreamEngine = {
    openExec: async (_id, spec): Promise<ExecSession> => {
      const exec = { argv: spec.argv, stdinEnded: false };
      execs.push(exec);
      const stream = new Duplex({
        read() {},
        write(_chunk, _encoding, callback) {
          callback();
        },
        final(callback) {
          exec.stdinEnded = true;
          callback();
        },
      });
      return { stream, status: async () => ({ running: true, exitCode: null }), resize: async () => undefined };
    },
    spawnDetached: async () => undefined,
  };
  return { engine, execs };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** A probe that answers with `answers` in turn, counting its calls. */
function relaysProbing(...answers: string[]): { relays: ExecRelays; probes: () => number } {
  let calls = 0;
  const exec = {
    probe: async () => {
      const stdout = answers[Math.min(calls, answers.length - 1)] ?? '';
      calls++;
      return { exitCode: 0, stdout, stderr: '' };
    },
  };
  return { relays: new ExecRelays({ engine: recordingEngine().engine, exec }), probes: () => calls };
}

describe('exec relays: which program relays an agent\'s forwards', () => {
  it('asks the container once per agent, and again once the agent is forgotten', async () => {
    const { relays, probes } = relaysProbing('perl\n');
    const first = await relays.target('a1', 'c1', 3000);
    await relays.target('a1', 'c1', 5173);
    assert.equal(probes(), 1);
    assert.equal(first.kind, 'exec');
    assert.match(first.kind === 'exec' ? first.describe : '', /perl/);
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
    for (const found of ['socat\n', 'python3\n']) {
      const { relays } = relaysProbing(found);
      await assert.rejects(relays.target('a1', 'c1', 70_000), /not a TCP port/);
    }
  });

  it('carries a forward over one exec where the container has python3 or node, ended with the forward or the agent; an exec per connection when told not to', async () => {
    for (const found of ['python3\n', 'socat\nnode\n']) {
      const { engine, execs } = recordingEngine();
      const relays = new ExecRelays({ engine, exec: { probe: async () => ({ exitCode: 0, stdout: found, stderr: '' }) } });
      const first = await relays.target('a1', 'c1', 3000);
      const second = await relays.target('a1', 'c1', 5173);
      assert.match(first.kind === 'exec' ? first.describe : '', /one stream in a1 to its port 3000/);
      if (first.kind === 'exec' && second.kind === 'exec') {
        // Connections take no exec of their own.
        first.open().on('error', () => undefined);
        first.open().on('error', () => undefined);
        await settle();
        assert.equal(execs.length, 2, found);
        assert.ok(execs.every((exec) => exec.argv.includes('connect') && !exec.stdinEnded));
        first.close();
      }
      await settle();
      assert.deepEqual(execs.map((exec) => exec.stdinEnded), [true, false]);
      relays.forget('a1');
      await settle();
      assert.ok(execs.every((exec) => exec.stdinEnded), 'a mux outlived its agent being forgotten');
    }
    const { engine, execs } = recordingEngine();
    await new ExecRelays({ engine, exec: { probe: async () => ({ exitCode: 0, stdout: 'python3\n', stderr: '' }) }, mux: false }).target('a1', 'c1', 3000);
    await settle();
    assert.equal(execs.length, SPARES_PER_FORWARD);
  });

  it('starts the spares of a forward with its target, and ends them with it or when the agent is forgotten', async () => {
    const { engine, execs } = recordingEngine();
    const relays = new ExecRelays({ engine, exec: { probe: async () => ({ exitCode: 0, stdout: 'perl\n', stderr: '' }) } });
    const first = await relays.target('a1', 'c1', 3000);
    const second = await relays.target('a1', 'c1', 5173);
    await settle();
    assert.equal(execs.length, 2 * SPARES_PER_FORWARD);
    assert.ok(execs.every((exec) => exec.argv.includes('perl') && !exec.stdinEnded));
    if (first.kind === 'exec') {
      first.close();
    }
    await settle();
    assert.deepEqual(execs.map((exec) => exec.stdinEnded), [true, true, false, false]);
    relays.forget('a1');
    await settle();
    assert.ok(execs.every((exec) => exec.stdinEnded), 'a spare outlived its agent being forgotten');
    assert.equal(second.kind, 'exec');
  });
});
