import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CancelledError, PoolError } from '../../src/core/errors';
import { ObjectPool } from '../../src/core/git/objectPool';
import { git, makeTempDir, removeDir } from '../support/testEnv';

const POOL_MODULE = join(__dirname, '..', '..', 'src', 'core', 'git', 'objectPool.js');

/** A bare repository with `main` (a few MB, so a clone takes a moment) and `feature`. */
function bareRepo(dir: string, name: string): string {
  const work = join(dir, `${name}-work`);
  git(dir, 'init', '-q', '-b', 'main', work);
  writeFileSync(join(work, 'blob.bin'), randomBytes(1024 * 1024));
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'first');
  git(work, 'branch', 'feature');
  const bare = join(dir, `${name}.git`);
  git(dir, 'clone', '-q', '--bare', work, bare);
  return bare;
}

/** Runs `pool.sync(url)` then `resolve` in another process, starting at `startAt` (so several start together). */
function syncInProcess(root: string, url: string, startAt: number): Promise<{ code: number | null; out: string; err: string }> {
  const script = `
    const { ObjectPool } = require(${JSON.stringify(POOL_MODULE)});
    const [root, url, startAt] = process.argv.slice(1);
    setTimeout(async () => {
      try {
        const pool = new ObjectPool(root);
        await pool.sync(url);
        process.stdout.write((await pool.resolve(url)).commit);
      } catch (error) {
        process.stderr.write(String(error && error.message));
        process.exitCode = 1;
      }
    }, Number(startAt) - Date.now());`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, root, url, String(startAt)]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('ObjectPool', () => {
  const dir = makeTempDir('pool-test');
  after(() => removeDir(dir));

  it('gives processes that sync a new repository at the same moment one whole mirror', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const url = `file://${bareRepo(dir, `race${round}`)}`;
      const root = join(dir, `root${round}`);
      const startAt = Date.now() + 1_500;
      const results = await Promise.all(Array.from({ length: 4 }, () => syncInProcess(root, url, startAt)));
      for (const result of results) {
        assert.equal(result.code, 0, `round ${round}: ${result.err}`);
      }
      assert.equal(new Set(results.map((r) => r.out)).size, 1, 'all see the same commit');
      const mirror = new ObjectPool(root).pathFor(url);
      git(mirror, 'fsck', '--strict');
      assert.deepEqual(readdirSync(join(root, 'pool')).sort(), [mirror.split('/').pop()], 'no lock or half clone left');
    }
  });

  it("follows the remote's default branch when it changes", async () => {
    const bare = bareRepo(dir, 'head');
    const pool = new ObjectPool(join(dir, 'root-head'), undefined, 0);
    await pool.sync(`file://${bare}`);
    assert.equal((await pool.resolve(`file://${bare}`)).branch, 'main');
    git(bare, 'symbolic-ref', 'HEAD', 'refs/heads/feature');
    await pool.sync(`file://${bare}`);
    assert.equal((await pool.resolve(`file://${bare}`)).branch, 'feature');
  });

  it('answers concurrent reads together, and reads after a fetch anew', async () => {
    const bare = bareRepo(dir, 'shared');
    const url = `file://${bare}`;
    const pool = new ObjectPool(join(dir, 'root-shared'), undefined, 0);
    await pool.sync(url);
    const first = git(bare, 'rev-parse', 'main');
    const [a, b, files] = await Promise.all([pool.resolve(url), pool.resolve(url), pool.rootFiles(url, first)]);
    assert.deepEqual([a.commit, b.commit], [first, first]);
    assert.deepEqual([...files.keys()], ['blob.bin']);
    // The remote moves on: what was read before the fetch is not what is read after it.
    const work = join(dir, 'shared-work');
    writeFileSync(join(work, 'more.txt'), 'more\n');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'more');
    git(work, 'push', '-q', bare, 'main');
    await pool.sync(url);
    const after = await pool.resolve(url);
    assert.equal(after.commit, git(bare, 'rev-parse', 'main'));
    assert.notEqual(after.commit, first);
  });

  it('tells an ancestor from a commit of another line of history', async () => {
    const work = join(dir, 'ancestry-work');
    git(dir, 'init', '-q', '-b', 'main', work);
    writeFileSync(join(work, 'a.txt'), 'a\n');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'first');
    const first = git(work, 'rev-parse', 'HEAD');
    writeFileSync(join(work, 'a.txt'), 'b\n');
    git(work, 'commit', '-q', '-am', 'second');
    const second = git(work, 'rev-parse', 'HEAD');
    git(work, 'checkout', '-q', '-b', 'side', first);
    writeFileSync(join(work, 'a.txt'), 'c\n');
    git(work, 'commit', '-q', '-am', 'side');
    const side = git(work, 'rev-parse', 'HEAD');
    const pool = new ObjectPool(join(dir, 'root-ancestry'), undefined, 0);
    const url = `file://${work}`;
    await pool.sync(url);
    assert.equal(await pool.isAncestor(url, first, second), true);
    assert.equal(await pool.isAncestor(url, second, second), true);
    // merge-base --is-ancestor says no with its exit code alone, which simple-git took for a yes.
    assert.equal(await pool.isAncestor(url, second, side), false);
    assert.equal(await pool.isAncestor(url, side, second), false);
    assert.equal(await pool.isAncestor(url, '0'.repeat(40), second), false);
  });

  it('fails fast with a clear error where git would ask for credentials', { timeout: 20_000 }, async () => {
    const server = createHttpServer((_request, response) => {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
      response.end();
    });
    const port = await listening(server);
    // An askpass program that waits for a person who never comes: what hangs a create.
    const askpass = join(dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\nsleep 600\n');
    chmodSync(askpass, 0o755);
    const saved = process.env.GIT_ASKPASS;
    process.env.GIT_ASKPASS = askpass;
    try {
      const started = Date.now();
      await assert.rejects(new ObjectPool(join(dir, 'root-401')).sync(`http://127.0.0.1:${port}/private.git`), (error) => error instanceof PoolError && /could not fetch/.test(error.message));
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      process.env.GIT_ASKPASS = saved;
      if (saved === undefined) {
        delete process.env.GIT_ASKPASS;
      }
      server.close();
    }
  });

  it('stops the fetch when its create is cancelled, and leaves no lock or half clone', { timeout: 20_000 }, async () => {
    // A remote that accepts and never answers.
    const sockets: Socket[] = [];
    const server = createTcpServer((socket) => void sockets.push(socket));
    const port = await listening(server);
    const root = join(dir, 'root-cancel');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 500);
    const started = Date.now();
    try {
      await assert.rejects(new ObjectPool(root).sync(`git://127.0.0.1:${port}/silent.git`, abort.signal), CancelledError);
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(readdirSync(join(root, 'pool')), []);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      server.close();
    }
  });
});
