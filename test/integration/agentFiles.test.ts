import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '../../src/core/docker/engine';
import type { ExecResult } from '../../src/core/docker/exec';
import { AgentFileError } from '../../src/core/files/agentFileError';
import { FILE_TYPE } from '../../src/core/files/agentFileParsing';
import { AgentFiles, MAX_INLINE_WRITE_BYTES, MAX_READ_BYTES } from '../../src/core/files/agentFiles';
import { createCore, type GitisoCore } from '../../src/core/gitisoCore';
import { GitServer } from '../support/gitServer';
import { idPrefix, removeAgents, TEST_LIMITS, TEST_NETWORK, testEngine, testImage } from '../support/testEnv';

const problem = (expected: string) => (error: unknown) => {
  assert.ok(error instanceof AgentFileError, `not an AgentFileError: ${String(error)}`);
  assert.equal(error.problem, expected, error.message);
  return true;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** An agent's files through the core, against a real agent: what an editor does, and what a hostile agent tries. */
describe('agent files: an agent\'s /workspace for an editor', () => {
  let engine: Engine;
  let server: GitServer;
  let core: GitisoCore;
  let files: AgentFiles;
  let hostDir: string;
  const prefix = idPrefix('files');
  const id = (name: string): string => `${prefix}-${name}`;

  before(async () => {
    engine = await testEngine();
    server = await GitServer.start(engine, testImage());
    server.createRepo('files');
    core = createCore({ engine, defaultImage: testImage(), network: TEST_NETWORK, limits: TEST_LIMITS, identity: { name: 'F', email: 'f@example.com' } });
    await core.creator.create({ id: id('a'), repoUrl: server.url('files') });
    files = new AgentFiles({ exec: core.exec, engine });
    hostDir = mkdtempSync(join(tmpdir(), 'gitiso-test-files-'));
  });

  after(async () => {
    await removeAgents(engine, prefix);
    core?.dispose();
    await server?.stop();
    rmSync(hostDir, { recursive: true, force: true });
  });

  /** The test's own hand in the agent, beside gitiso's channels. */
  async function inAgent(agentId: string, script: string): Promise<ExecResult> {
    const agent = await core.agents.get(agentId);
    const result = await engine.exec(agent.containerId, ['sh', '-c', script], { workdir: '/workspace' });
    assert.equal(result.exitCode, 0, `${script}: ${result.stderr}`);
    return result;
  }

  it('writes, reads, lists, renames and deletes files, and git in the agent sees them', async () => {
    const agentId = id('a');
    const content = Buffer.from('hello from the editor\n\0binary\xff', 'latin1');
    await files.writeFile(agentId, '/notes/../new file.txt', content, { create: true, overwrite: false });
    assert.match((await inAgent(agentId, 'git status --porcelain')).stdout, /^\?\? "new file.txt"$/m);
    assert.deepEqual(Buffer.from(await files.readFile(agentId, '/new file.txt')), content);
    const stat = await files.stat(agentId, '/new file.txt');
    assert.equal(stat.type, FILE_TYPE.file);
    assert.equal(stat.size, content.length);
    assert.ok(Math.abs(stat.mtime - Date.now()) < 60_000, `mtime ${stat.mtime}`);

    await assert.rejects(files.writeFile(agentId, '/new file.txt', Buffer.from('x'), { create: true, overwrite: false }), problem('exists'));
    await assert.rejects(files.writeFile(agentId, '/absent.txt', Buffer.from('x'), { create: false, overwrite: true }), problem('not-found'));
    await assert.rejects(files.writeFile(agentId, '/.git', Buffer.from('x'), { create: true, overwrite: true }), problem('is-directory'));
    await assert.rejects(files.writeFile(agentId, '/no/such/folder.txt', Buffer.from('x'), { create: true, overwrite: true }), problem('not-found'));

    await files.createDirectory(agentId, '/dir');
    await assert.rejects(files.createDirectory(agentId, '/dir'), problem('exists'));
    const listing = new Map(await files.readDirectory(agentId, '/'));
    assert.equal(listing.get('new file.txt'), FILE_TYPE.file);
    assert.equal(listing.get('dir'), FILE_TYPE.directory);
    assert.equal(listing.get('.git'), FILE_TYPE.directory);
    await assert.rejects(files.readDirectory(agentId, '/new file.txt'), problem('not-directory'));
    await assert.rejects(files.readDirectory(agentId, '/nothing'), problem('not-found'));
    await assert.rejects(files.readFile(agentId, '/dir'), problem('is-directory'));
    await assert.rejects(files.readFile(agentId, '/nothing'), problem('not-found'));

    await files.rename(agentId, '/new file.txt', '/dir/moved.txt', { overwrite: false });
    await files.writeFile(agentId, '/other.txt', Buffer.from('other'), { create: true, overwrite: false });
    await assert.rejects(files.rename(agentId, '/other.txt', '/dir/moved.txt', { overwrite: false }), problem('exists'));
    await files.rename(agentId, '/other.txt', '/dir/moved.txt', { overwrite: true });
    assert.equal(Buffer.from(await files.readFile(agentId, '/dir/moved.txt')).toString(), 'other');

    await assert.rejects(files.delete(agentId, '/dir', { recursive: false }), problem('other'));
    await files.delete(agentId, '/dir', { recursive: true });
    await assert.rejects(files.stat(agentId, '/dir'), problem('not-found'));
    assert.equal((await inAgent(agentId, 'git status --porcelain')).stdout, '');
  });

  it('writes content of every size and byte, inline or through the archive API', async () => {
    const agentId = id('a');
    const sizes = [0, 1, 59_999, 60_001, MAX_INLINE_WRITE_BYTES, MAX_INLINE_WRITE_BYTES + 1, 3 * 1024 * 1024];
    for (const size of sizes) {
      const content = randomBytes(size);
      await files.writeFile(agentId, '/sized.bin', content, { create: true, overwrite: true });
      const inAgentSum = (await inAgent(agentId, 'sha256sum < sized.bin')).stdout.split(' ')[0];
      assert.equal(inAgentSum, createHash('sha256').update(content).digest('hex'), `${size} bytes`);
      assert.ok(Buffer.from(await files.readFile(agentId, '/sized.bin')).equals(content), `${size} bytes read back`);
    }
    await files.delete(agentId, '/sized.bin', { recursive: false });
  });

  it('keeps an existing file\'s mode and its links when it is written', async () => {
    const agentId = id('a');
    await inAgent(agentId, 'printf "#!/bin/sh\\necho one\\n" > run.sh && chmod 755 run.sh && ln -s run.sh run-link');
    await files.writeFile(agentId, '/run-link', Buffer.from('#!/bin/sh\necho two\n'), { create: false, overwrite: true });
    assert.equal((await inAgent(agentId, 'stat -c %a run.sh && readlink run-link && ./run.sh')).stdout, '755\nrun.sh\ntwo\n');
    const linkStat = await files.stat(agentId, '/run-link');
    assert.equal(linkStat.type, FILE_TYPE.file | FILE_TYPE.symbolicLink);
    await files.delete(agentId, '/run-link', { recursive: false });
    await files.delete(agentId, '/run.sh', { recursive: false });
  });

  it('never reaches the host: .. is refused, and a link to a host path stays inside the container', async () => {
    const agentId = id('a');
    await assert.rejects(files.readFile(agentId, '/../etc/hostname'), problem('no-permission'));
    await assert.rejects(files.writeFile(agentId, '/../../tmp/x', Buffer.from('x'), { create: true, overwrite: true }), problem('no-permission'));
    await assert.rejects(files.readDirectory(agentId, '/..'), problem('no-permission'));

    const secret = join(hostDir, 'secret.txt');
    writeFileSync(secret, 'host secret');
    const planted = join(hostDir, 'planted.txt');
    await inAgent(agentId, `ln -s '${secret}' to-secret && ln -s '${planted}' to-planted && ln -s '${hostDir}' to-dir`);
    // The links point to nothing in the container: nothing of the host comes back, nothing lands there.
    await assert.rejects(files.readFile(agentId, '/to-secret'), problem('not-found'));
    assert.equal((await files.stat(agentId, '/to-secret')).type, FILE_TYPE.symbolicLink);
    await assert.rejects(files.readDirectory(agentId, '/to-dir'), problem('not-found'));
    await files.writeFile(agentId, '/to-planted', Buffer.from('planted'), { create: true, overwrite: true }).catch(() => undefined);
    assert.equal(existsSync(planted), false, 'a write through an agent\'s link landed on the host');
    assert.equal(readFileSync(secret, 'utf8'), 'host secret');
    await inAgent(agentId, 'rm -f to-secret to-planted to-dir');
  });

  it('refuses a file over the read limit with a clear error, having read no more than the limit', async () => {
    const agentId = id('a');
    await inAgent(agentId, `head -c ${MAX_READ_BYTES + 10} /dev/zero > big.bin`);
    await assert.rejects(files.readFile(agentId, '/big.bin'), (error: Error) => {
      assert.match(error.message, /larger than 52428800 bytes/);
      return true;
    });
    await inAgent(agentId, 'rm big.bin');
  });

  it('reads and writes only regular files: a FIFO or a link to a device is refused at once', async () => {
    const agentId = id('a');
    await inAgent(agentId, 'mkfifo pipe && ln -s /dev/zero zeros');
    for (const path of ['/pipe', '/zeros']) {
      const started = Date.now();
      await assert.rejects(files.readFile(agentId, path), /not a regular file/);
      await assert.rejects(files.writeFile(agentId, path, Buffer.from('x'), { create: true, overwrite: true }), /not a regular file/);
      await assert.rejects(files.writeFile(agentId, path, Buffer.alloc(MAX_INLINE_WRITE_BYTES + 1), { create: true, overwrite: true }), /not a regular file/);
      assert.ok(Date.now() - started < 5_000, `${path} held the channel`);
    }
    await inAgent(agentId, 'rm pipe zeros && test -z "$(ls -A /tmp/gitiso-writes)"');
  });

  it('lists the agent\'s files for a pick: tracked and untracked, not ignored', async () => {
    const agentId = id('a');
    await inAgent(agentId, 'mkdir -p sub && echo x > sub/untracked.txt && echo ignored.log > .gitignore && echo y > ignored.log');
    const { paths, complete } = await files.listFiles(agentId);
    assert.equal(complete, true);
    assert.ok(paths.includes('sub/untracked.txt'), paths.join(','));
    assert.ok(paths.includes('.gitignore'));
    assert.ok(!paths.includes('ignored.log'));
    assert.ok(paths.length >= 2);
    await inAgent(agentId, 'rm -rf sub .gitignore ignored.log');
  });

  it('measures a small read and write (ms)', async () => {
    const agentId = id('a');
    const small = Buffer.from('a small file\n'.repeat(100));
    await files.writeFile(agentId, '/small.txt', small, { create: true, overwrite: true });
    const agent = await core.agents.get(agentId);
    const large = randomBytes(MAX_INLINE_WRITE_BYTES);
    const larger = randomBytes(MAX_INLINE_WRITE_BYTES + 1);
    const times = { read: [] as number[], write: [] as number[], stat: [] as number[], archiveRead: [] as number[], write64K: [] as number[], read64K: [] as number[], writeArchive: [] as number[] };
    for (let i = 0; i < 20; i++) {
      let started = performance.now();
      await files.readFile(agentId, '/small.txt');
      times.read.push(performance.now() - started);
      started = performance.now();
      await files.writeFile(agentId, '/small.txt', small, { create: true, overwrite: true });
      times.write.push(performance.now() - started);
      started = performance.now();
      await files.stat(agentId, '/small.txt');
      times.stat.push(performance.now() - started);
      started = performance.now();
      await engine.readFile(agent.containerId, '/workspace/small.txt');
      times.archiveRead.push(performance.now() - started);
      started = performance.now();
      await files.writeFile(agentId, '/large.bin', large, { create: true, overwrite: true });
      times.write64K.push(performance.now() - started);
      started = performance.now();
      await files.readFile(agentId, '/large.bin');
      times.read64K.push(performance.now() - started);
      started = performance.now();
      await files.writeFile(agentId, '/large.bin', larger, { create: true, overwrite: true });
      times.writeArchive.push(performance.now() - started);
    }
    const figures = Object.entries(times).map(([what, values]) => `${what} ${median(values).toFixed(1)} ms (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`);
    console.log(`      medians of 20 (1.3 KB unless said): ${figures.join(', ')}`);
    await files.delete(agentId, '/small.txt', { recursive: false });
    await files.delete(agentId, '/large.bin', { recursive: false });
  });

  it('says the agent is stopped, then that it no longer exists', async () => {
    const agentId = id('gone');
    await core.creator.create({ id: agentId, repoUrl: server.url('files') });
    await files.writeFile(agentId, '/f.txt', Buffer.from('x'), { create: true, overwrite: false });
    await core.agents.stop(agentId);
    await assert.rejects(files.readFile(agentId, '/f.txt'), (error: Error) => problem('unavailable')(error) && /agent '.*' is stopped: start it/.test(error.message));
    await core.agents.remove(agentId);
    await assert.rejects(files.stat(agentId, '/f.txt'), (error: Error) => problem('unavailable')(error) && /agent '.*' no longer exists/.test(error.message));
    await assert.rejects(files.writeFile(agentId, '/f.txt', Buffer.from('x'), { create: true, overwrite: true }), /no longer exists/);
  });
});
