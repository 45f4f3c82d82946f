import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecResult } from '../../src/core/docker/exec';
import { AgentNotFoundError } from '../../src/core/errors';
import { AgentFileError } from '../../src/core/files/agentFileError';
import { FILE_TYPE, linkStat, parseDirectory, parsePathList, parseStat, problemOf } from '../../src/core/files/agentFileParsing';
import { AgentFiles, asFileError, MAX_INLINE_WRITE_BYTES } from '../../src/core/files/agentFiles';
import { agentPath, uriPathOf } from '../../src/core/files/agentPath';

const problem = (expected: string) => (error: unknown) => error instanceof AgentFileError && error.problem === expected;

describe('agent file paths', () => {
  it('puts a URI path under /workspace, with . and .. resolved inside it', () => {
    assert.equal(agentPath('/'), '/workspace');
    assert.equal(agentPath(''), '/workspace');
    assert.equal(agentPath('/src/a.ts'), '/workspace/src/a.ts');
    assert.equal(agentPath('//src/./b//c.ts'), '/workspace/src/b/c.ts');
    assert.equal(agentPath('/src/x/../a.ts'), '/workspace/src/a.ts');
    assert.equal(agentPath('/-rf'), '/workspace/-rf', 'a name that looks like an option stays a path under /workspace');
    assert.equal(uriPathOf('/workspace/src/a.ts'), '/src/a.ts');
    assert.equal(uriPathOf('/workspace'), '/');
  });

  it('refuses a path that climbs out of /workspace, however it is spelled', () => {
    for (const escape of ['/..', '/../etc/passwd', '/src/../../etc', '/a/b/../../../workspace2', '/./..']) {
      assert.throws(() => agentPath(escape), problem('no-permission'), escape);
    }
    assert.throws(() => agentPath('/a\0b'), problem('no-permission'));
  });
});

describe('agent file parsing', () => {
  it('reads stat -c output: type from the raw mode, times in milliseconds', () => {
    assert.deepEqual(parseStat('81a4 3 1796167115.784 1796167115.779 1796167116.000\n'), { type: FILE_TYPE.file, size: 3, mtime: 1796167115784, ctime: 1796167115779, isLink: false });
    const folder = parseStat('41ed 4096 1796167115.787 0 1796167115.500');
    assert.equal(folder.type, FILE_TYPE.directory);
    assert.equal(folder.ctime, 1796167115500, 'no birth time: the change time stands in');
    const link = parseStat('a1ff 7 1796167115.799 1796167115.799 1796167115.799');
    assert.equal(link.isLink, true);
    assert.equal(parseStat('61b0 0 1 1 1').type, FILE_TYPE.unknown, 'a block device is neither file nor folder');
    assert.equal(linkStat(link, parseStat('81a4 3 5.000 5.000 5.000')).type, FILE_TYPE.file | FILE_TYPE.symbolicLink);
    assert.equal(linkStat(link, undefined).type, FILE_TYPE.symbolicLink, 'a link to nowhere');
  });

  it('refuses stat output it does not understand (the agent printed it)', () => {
    for (const junk of ['', 'hello', '81a4 x 1 1 1', 'zz 1 1 1 1', '81a4 3 1 1 1 extra', '81a4 3 1e9 1 1']) {
      assert.throws(() => parseStat(junk), problem('other'), JSON.stringify(junk));
    }
  });

  it('reads a find listing: the folder first, entries with links flagged, odd records dropped', () => {
    const output = ['dd ', 'ff a.txt', 'dd src', 'lf link', 'lN dangling', 'ld dirlink', 'pp fifo', 'ff name with\nnewline', 'ff ..', 'ff a/b', 'x', 'ff cut-at-the-en'].join('\0');
    const listing = parseDirectory(output);
    assert.equal(listing.type, FILE_TYPE.directory);
    assert.deepEqual(listing.entries, [
      ['a.txt', FILE_TYPE.file],
      ['src', FILE_TYPE.directory],
      ['link', FILE_TYPE.symbolicLink | FILE_TYPE.file],
      ['dangling', FILE_TYPE.symbolicLink],
      ['dirlink', FILE_TYPE.symbolicLink | FILE_TYPE.directory],
      ['fifo', FILE_TYPE.unknown],
      ['name with\nnewline', FILE_TYPE.file],
    ]);
    assert.equal(parseDirectory('ff \0').type, FILE_TYPE.file);
    assert.throws(() => parseDirectory(''), problem('other'));
    assert.throws(() => parseDirectory('lN \0'), problem('not-found'), 'a link to nothing is no folder');
  });

  it('names the problem in a failed command\'s message', () => {
    assert.equal(problemOf("stat: cannot statx '/workspace/x': No such file or directory"), 'not-found');
    assert.equal(problemOf('sh: 1: cannot create /workspace/no/x: Directory nonexistent'), 'not-found');
    assert.equal(problemOf("ls: cannot access '/workspace/f/x': Not a directory"), 'not-directory');
    assert.equal(problemOf("head: error reading '/workspace/d': Is a directory"), 'is-directory');
    assert.equal(problemOf("mkdir: cannot create directory '/workspace/d': File exists"), 'exists');
    assert.equal(problemOf('sh: 1: cannot create /workspace/x: Permission denied'), 'no-permission');
    assert.equal(problemOf("rmdir: failed to remove '/workspace/d': Directory not empty"), 'other');
  });

  it('reads git ls-files -z, bounded', () => {
    assert.deepEqual(parsePathList('a\0b c\0d\ne\0', 10, false), { paths: ['a', 'b c', 'd\ne'], complete: true });
    assert.deepEqual(parsePathList('a\0b\0c\0', 2, false), { paths: ['a', 'b'], complete: false });
    assert.deepEqual(parsePathList('a\0b\0cu', 10, true), { paths: ['a', 'b'], complete: false }, 'a cut output drops its cut record');
    assert.deepEqual(parsePathList('', 10, false), { paths: [], complete: true });
  });
});

/** An agent whose commands answer from a table, recording what was run. */
function fakeAgent(answers: (argv: readonly string[]) => Partial<ExecResult>) {
  const ran: { lane: string; argv: readonly string[] }[] = [];
  const answer = (lane: string, argv: readonly string[]): ExecResult => {
    ran.push({ lane, argv });
    return { exitCode: 0, stdout: '', stderr: '', ...answers(argv) };
  };
  const files = new AgentFiles({
    exec: {
      probe: async (_id, argv) => answer('probe', argv),
      run: async (_id, argv) => answer('run', argv),
    },
    engine: {
      inspectContainer: async () => ({ Id: 'c1', State: { Running: true }, Config: { Labels: { 'gitiso.agent': 'a1' } } }) as never,
      putFile: async (_container, path) => {
        ran.push({ lane: 'archive', argv: [path] });
      },
    },
  });
  return { files, ran };
}

const MISSING = { exitCode: 1, stderr: "stat: cannot statx '/workspace/x': No such file or directory\n" };
const A_FILE = { stdout: '81a4 3 1.000 1.000 1.000\n' };
const A_FOLDER = { stdout: '41ed 4096 1.000 1.000 1.000\n' };

describe('agent files over an agent\'s channels', () => {
  it('refuses a path out of /workspace before anything runs in the agent', async () => {
    const { files, ran } = fakeAgent(() => A_FILE);
    await assert.rejects(files.readFile('a1', '/../etc/passwd'), problem('no-permission'));
    await assert.rejects(files.writeFile('a1', '/../../x', new Uint8Array(1), { create: true, overwrite: true }), problem('no-permission'));
    await assert.rejects(files.rename('a1', '/a', '/../b', { overwrite: true }), problem('no-permission'));
    await assert.rejects(files.delete('a1', '/', { recursive: true }), problem('no-permission'), '/workspace itself is never deleted');
    await assert.rejects(files.stat('../x', '/a'), problem('not-found'), 'an invalid agent id');
    assert.deepEqual(ran, []);
  });

  it('honours create and overwrite, and writes through an argument array with the path never in the script', async () => {
    const existing = fakeAgent(() => A_FILE);
    await assert.rejects(existing.files.writeFile('a1', '/a', new Uint8Array(1), { create: true, overwrite: false }), problem('exists'));
    const missing = fakeAgent((argv) => (argv[0] === 'stat' ? MISSING : {}));
    await assert.rejects(missing.files.writeFile('a1', '/new', new Uint8Array(1), { create: false, overwrite: true }), problem('not-found'));
    const folder = fakeAgent(() => A_FOLDER);
    await assert.rejects(folder.files.writeFile('a1', '/src', new Uint8Array(1), { create: false, overwrite: true }), problem('is-directory'));

    await missing.files.writeFile('a1', '/small $(x).txt', Buffer.from('small'), { create: true, overwrite: false });
    const inline = missing.ran.at(-1);
    assert.equal(inline?.lane, 'run');
    assert.deepEqual(inline?.argv.slice(3), ['gitiso-write', '/workspace/small $(x).txt', Buffer.from('small').toString('base64')]);
    assert.ok(!inline?.argv[2]?.includes('/workspace'), 'the script names no path');

    await missing.files.writeFile('a1', '/new $(x).txt', new Uint8Array(MAX_INLINE_WRITE_BYTES + 1), { create: true, overwrite: false });
    const [archive, write] = missing.ran.slice(-2);
    assert.equal(archive?.lane, 'archive');
    assert.match(archive?.argv[0] ?? '', /^\/tmp\/gitiso-writes\/[0-9a-f-]{36}$/);
    assert.equal(write?.lane, 'run');
    assert.deepEqual(write?.argv.slice(3), ['gitiso-write', '/workspace/new $(x).txt', archive?.argv[0]]);
    assert.ok(!write?.argv[2]?.includes('/workspace'), 'the script names no path');
  });

  it('reads through head on the command channel, and turns a failure into its problem', async () => {
    const { files, ran } = fakeAgent(() => ({ exitCode: 1, stderr: "head: error reading '/workspace/d': Is a directory\n" }));
    await assert.rejects(files.readFile('a1', '/d'), problem('is-directory'));
    assert.equal(ran[0]?.lane, 'run');
    assert.deepEqual(ran[0]?.argv.slice(3), ['gitiso-read', '/workspace/d', String(50 * 1024 * 1024 + 1)]);
    assert.ok(!ran[0]?.argv[2]?.includes('/workspace'), 'the script names no path');
  });

  it('deletes a folder only when empty unless recursive, a link as a link', async () => {
    const folder = fakeAgent(() => A_FOLDER);
    await folder.files.delete('a1', '/d', { recursive: false });
    await folder.files.delete('a1', '/d', { recursive: true });
    assert.deepEqual(folder.ran.filter((r) => r.lane === 'run').map((r) => r.argv), [['rmdir', '--', '/workspace/d'], ['rm', '-r', '-f', '--', '/workspace/d']]);
    const link = fakeAgent((argv) => (argv[1] === '-L' ? A_FOLDER : { stdout: 'a1ff 1 1.000 1.000 1.000' }));
    await link.files.delete('a1', '/l', { recursive: false });
    assert.deepEqual(link.ran.at(-1)?.argv, ['rm', '-f', '--', '/workspace/l']);
  });

  it('renames only over nothing unless overwrite', async () => {
    const { files, ran } = fakeAgent(() => A_FILE);
    await assert.rejects(files.rename('a1', '/a', '/b', { overwrite: false }), problem('exists'));
    await files.rename('a1', '/a', '/b', { overwrite: true });
    assert.deepEqual(ran.at(-1)?.argv, ['mv', '-T', '--', '/workspace/a', '/workspace/b']);
  });

  it('says plainly when the agent is gone or stopped', () => {
    assert.equal(asFileError('a1', new AgentNotFoundError('a1')).message, "agent 'a1' no longer exists");
    assert.equal(asFileError('a1', new AgentNotFoundError('a1')).problem, 'unavailable');
  });
});
