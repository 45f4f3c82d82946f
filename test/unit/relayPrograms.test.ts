import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { chooseRelayProgram, GO_BYTE, RELAY_PROBE, RELAY_PROGRAMS, relayArgv } from '../../src/core/ports/relayPrograms';

/** Runs a relay's go-byte wrapper here with `cat` as the program (what the wrapper does not depend on the program): its stdout. */
function runWrapper(input: Buffer): Promise<string> {
  const [first] = RELAY_PROGRAMS;
  assert.ok(first);
  const [sh, flag, script, name] = relayArgv(first, 3000);
  return new Promise((resolve, reject) => {
    const child = spawn(sh as string, [flag as string, script as string, name as string, 'cat'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(chunks).toString()));
    child.stdin.end(input);
  });
}

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

  it('waits for the go byte: reads exactly that byte and passes the rest on, and exits without starting the relay on an end before it', async () => {
    for (const program of RELAY_PROGRAMS) {
      const argv = relayArgv(program, 3000);
      assert.deepEqual(argv.slice(0, 2), ['sh', '-c'], program.name);
      assert.deepEqual(argv.slice(4), program.argv(3000), program.name);
    }
    assert.equal(await runWrapper(Buffer.concat([GO_BYTE, Buffer.from('GET / HTTP/1.1\r\n\r\nmore\n')])), 'GET / HTTP/1.1\r\n\r\nmore\n');
    assert.equal(await runWrapper(Buffer.from('no go byte, then the end')), '');
    assert.equal(await runWrapper(Buffer.alloc(0)), '');
  });
});
