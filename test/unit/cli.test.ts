import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countFrom, depthFrom, limitsFrom, parseCommandLine, strategyFrom } from '../../src/cli/args';
import { forwardCommand } from '../../src/cli/commands/forward';
import { UsageError } from '../../src/cli/errors';
import type { CliContext } from '../../src/cli/context';
import type { GitisoCore } from '../../src/core/gitisoCore';
import { alignedTable, tabSeparated } from '../../src/cli/table';

describe('cli tables', () => {
  it('pad columns to the widest cell, two spaces apart, with no trailing blanks', () => {
    const rows = [
      ['ID', 'STATE', 'DISK'],
      ['a-1', 'ready', ''],
      ['long-id', 'creating', '1 MB'],
    ];
    assert.equal(alignedTable(rows), 'ID       STATE     DISK\na-1      ready\nlong-id  creating  1 MB\n');
  });

  it('separate cells by tabs and keep empty ones', () => {
    assert.equal(tabSeparated([['a', 'b', ''], ['3999', '127.0.0.1']]), 'a\tb\t\n3999\t127.0.0.1\n');
  });
});

describe('cli arguments', () => {
  it('leave everything after -- to git, flags included', () => {
    const line = parseCommandLine(['git', 'a1', '--verbose', '--', 'log', '--oneline', '--', 'file']);
    assert.deepEqual(
      { command: line.command, operands: line.operands, passThrough: line.passThrough, verbose: line.flags.verbose },
      { command: 'git', operands: ['a1'], passThrough: ['log', '--oneline', '--', 'file'], verbose: true },
    );
  });

  it('turn Node\'s parse errors and bad values into usage errors', () => {
    assert.throws(() => parseCommandLine(['ls', '--nope']), (error) => error instanceof UsageError && /Unknown option '--nope'/.test(error.message));
    assert.throws(() => strategyFrom('fast'), new UsageError('--strategy must be one of snapshot, pool, remote'));
    assert.deepEqual(limitsFrom({ memory: '512m', pids: '64' }), { memoryBytes: 512 * 1024 ** 2, pids: 64 });
    assert.throws(() => limitsFrom({ cpus: '0' }), /at least 0.1 CPUs/);
  });

  it('refuse garbage and out-of-range numbers with a usage error that names the flag', () => {
    const usage = (flag: string) => (error: unknown) => error instanceof UsageError && error.message.startsWith(`--${flag}`);
    for (const depth of ['abc', '1.5', '-1', '0x10', '1e3', '', '99999999999']) {
      assert.throws(() => depthFrom(depth), usage('depth'), depth);
    }
    assert.equal(depthFrom('0'), 0);
    assert.equal(depthFrom('5'), 5);
    assert.equal(depthFrom(undefined), undefined);
    for (const count of ['0', '101', '1e9', 'ten', '3.0']) {
      assert.throws(() => countFrom(count), usage('count'), count);
    }
    assert.equal(countFrom('100'), 100);
    assert.throws(() => limitsFrom({ memory: '5t' }), usage('memory'));
    assert.throws(() => limitsFrom({ memory: 'lots' }), usage('memory'));
    assert.throws(() => limitsFrom({ cpus: '0x10' }), usage('cpus'));
    assert.throws(() => limitsFrom({ cpus: '2000' }), usage('cpus'));
    assert.throws(() => limitsFrom({ pids: '1e6' }), usage('pids'));
    assert.throws(() => limitsFrom({ pids: '100000' }), usage('pids'));
    assert.deepEqual(limitsFrom({ cpus: '0.5' }), { cpus: 0.5 });
  });

  it('take a port operand as digits only', async () => {
    for (const port of ['0x50', '8e1', '80.0', '0', '65536', '']) {
      const context: CliContext = { core: {} as GitisoCore, everyEngine: () => [], onEngineOf: async () => context, dispose: () => undefined };
      await assert.rejects(forwardCommand.run(parseCommandLine(['forward', 'a1', port]), context), UsageError, port);
    }
  });
});
