import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRelayProgram, RELAY_PROBE, RELAY_PROGRAMS, relayArgv } from '../../src/core/ports/relayPrograms';

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
});
