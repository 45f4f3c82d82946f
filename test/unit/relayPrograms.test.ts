import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { chooseRelayProgram, GO_BYTE, RELAY_PROBE, RELAY_PROGRAMS, relayArgv } from '../../src/core/ports/relayPrograms';

/** A server here for relays run on this machine: counts the connections it accepts, answers "world" to "hello" and closes. */
async function helloServer(): Promise<{ port: number; accepted: () => number; close: () => void }> {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received === 'hello') {
        socket.end('world');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, accepted: () => accepted, close: () => server.close() };
}

/** Runs a relay here: `input` on its stdin, and its stdin ended unless told not to; its stdout when it exits (or is killed after `killAfterMs`). */
function runRelay(argv: readonly string[], input: Buffer, options: { end: boolean; killAfterMs?: number }): Promise<string> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill(), options.killAfterMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    });
    child.stdin.on('error', () => undefined);
    child.stdin.write(input);
    if (options.end) {
      child.stdin.end();
    }
  });
}

const onThisMachine = (command: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command]).status === 0;

describe('relay programs: what relays a forward inside the container', () => {
  it('takes the first the container has, in order of preference', () => {
    assert.equal(chooseRelayProgram('socat\nbash\ncat\npython3\n')?.name, 'socat');
    assert.equal(chooseRelayProgram('python3\nbash\ncat\n')?.name, 'bash');
    assert.equal(chooseRelayProgram('node\nperl\n')?.name, 'perl');
    assert.equal(chooseRelayProgram('nc\n')?.name, 'nc');
  });

  it('takes bash only with cat, and nothing from an empty probe', () => {
    assert.equal(chooseRelayProgram('bash\nnode\n')?.name, 'node');
    assert.equal(chooseRelayProgram(''), undefined);
  });

  it('reads only the names it asked for: the container\'s other output (a path, a name with more on its line) is not a program', () => {
    assert.equal(chooseRelayProgram('/usr/bin/socat\nsocat; rm -rf /\nsh\n'), undefined);
    assert.equal(chooseRelayProgram('  perl  \n'), chooseRelayProgram('perl'));
  });

  it('asks for every program and what it needs, as arguments, not in the script', () => {
    assert.deepEqual(RELAY_PROBE.slice(4).sort(), ['bash', 'cat', 'nc', 'node', 'perl', 'python3', 'socat']);
    assert.equal(RELAY_PROBE[0], 'sh');
  });

  it('puts the port in as an argument of its own, and refuses anything that is not a port', () => {
    for (const program of RELAY_PROGRAMS) {
      const argv = relayArgv(program, 3000);
      assert.ok(argv.some((word) => word === '3000' || word === 'TCP:127.0.0.1:3000'), `${program.name}: ${argv.join(' ')}`);
      assert.ok(argv.every((word) => !word.includes('3000') || word === '3000' || word === 'TCP:127.0.0.1:3000'), `${program.name} put the port in a script`);
    }
    const [first] = RELAY_PROGRAMS;
    assert.ok(first);
    for (const port of [0, -1, 65_536, 3000.5, Number.NaN]) {
      assert.throws(() => relayArgv(first, port), /not a TCP port/);
    }
  });

  it('each waits for the go byte: no connection before it, none on an end before it, and after it the bytes that follow it, exactly', async (t) => {
    for (const program of RELAY_PROGRAMS) {
      const command = program.argv(1)[0] === 'sh' ? program.name : (program.argv(1)[0] as string);
      if (!onThisMachine(command)) {
        t.diagnostic(`${program.name} is not on this machine: not run here`);
        continue;
      }
      const server = await helloServer();
      try {
        const argv = relayArgv(program, server.port);
        await runRelay(argv, Buffer.alloc(0), { end: false, killAfterMs: 500 });
        assert.equal(server.accepted(), 0, `${program.name} connected before its go byte`);
        await runRelay(argv, Buffer.alloc(0), { end: true });
        assert.equal(server.accepted(), 0, `${program.name} connected on an end before its go byte`);
        const answer = await runRelay(argv, Buffer.concat([GO_BYTE, Buffer.from('hello')]), { end: false, killAfterMs: 5_000 });
        assert.equal(answer, 'world', program.name);
        assert.equal(server.accepted(), 1, program.name);
      } finally {
        server.close();
      }
    }
  });
});
