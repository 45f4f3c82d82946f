import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CancelledError, PoolError } from '../../src/core/errors';
import { PoolLock } from '../../src/core/git/poolLock';
import { formatOwner } from '../../src/core/ownership';
import { makeTempDir, removeDir } from '../support/testEnv';

describe('PoolLock', () => {
  const dir = makeTempDir('lock');
  after(() => removeDir(dir));

  it('is exclusive: a second holder waits until the first lets go', async () => {
    const path = join(dir, 'a.lock');
    const first = await PoolLock.acquire(path, { maxWaitMs: 5_000, what: 'fetch' });
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).owner, formatOwner());
    let acquired = false;
    const waiting = PoolLock.acquire(path, { maxWaitMs: 5_000, what: 'fetch' }).then((lock) => {
      acquired = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(acquired, false, 'still waiting');
    first.release();
    (await waiting).release();
    assert.ok(!existsSync(path));
  });

  it('takes over a lock whose holder has ended', async () => {
    const path = join(dir, 'b.lock');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(path, JSON.stringify({ owner: `${dead}@${hostname()}`, token: 'old' }));
    const started = Date.now();
    const lock = await PoolLock.acquire(path, { maxWaitMs: 5_000, what: 'fetch' });
    assert.ok(Date.now() - started < 1_000);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).owner, formatOwner());
    lock.release();
  });

  it('stops waiting when cancelled, or after its bound with an error that says what to do', async () => {
    const path = join(dir, 'c.lock');
    const held = await PoolLock.acquire(path, { maxWaitMs: 5_000, what: 'fetch' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    await assert.rejects(PoolLock.acquire(path, { signal: abort.signal, maxWaitMs: 5_000, what: 'fetch' }), CancelledError);
    await assert.rejects(PoolLock.acquire(path, { maxWaitMs: 200, what: 'fetch of x' }), (error) => error instanceof PoolError && /gitiso doctor --fix/.test(error.message));
    held.release();
  });

  it('never removes a lock that another holder took since', async () => {
    const path = join(dir, 'd.lock');
    const mine = await PoolLock.acquire(path, { maxWaitMs: 5_000, what: 'fetch' });
    writeFileSync(path, JSON.stringify({ owner: formatOwner(), token: 'someone-else' }));
    mine.release();
    assert.ok(existsSync(path));
  });
});
