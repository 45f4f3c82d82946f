import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, promises, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_COPY_BYTES, readFileToCopy, type CopyRead } from '../../src/core/setup/copyFromFolder';
import { makeTempDir, removeDir } from '../support/testEnv';

function contentOf(read: CopyRead): string {
  assert.ok('file' in read, `skipped: ${'skipped' in read ? read.skipped : ''}`);
  return read.file.content.toString();
}

function skipped(read: CopyRead, reason: RegExp): void {
  assert.ok('skipped' in read, `copied: ${'file' in read ? read.file.content.toString() : ''}`);
  assert.match(read.skipped, reason);
}

describe('readFileToCopy', () => {
  let root: string;
  let folder: string;
  let outside: string;

  before(() => {
    root = makeTempDir('copy');
    folder = join(root, 'checkout');
    outside = join(root, 'home');
    mkdirSync(join(folder, 'config'), { recursive: true });
    mkdirSync(join(folder, '.git'), { recursive: true });
    mkdirSync(join(folder, 'sub', '.GIT'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'id_rsa'), 'PRIVATE KEY\n');
    writeFileSync(join(root, 'sibling.txt'), 'sibling\n');
    writeFileSync(join(folder, '.env'), 'TOKEN=1\n');
    chmodSync(join(folder, '.env'), 0o600);
    writeFileSync(join(folder, 'config', 'local.json'), '{}\n');
    writeFileSync(join(folder, '.git', 'config'), '[remote "origin"]\n');
    writeFileSync(join(folder, 'sub', '.GIT', 'config'), 'x\n');
    // What a repository can commit: links out of the folder, to a file and to a folder, and a link into .git.
    symlinkSync(join(outside, 'id_rsa'), join(folder, 'notes.txt'));
    symlinkSync(outside, join(folder, 'linkdir'));
    symlinkSync('.git/config', join(folder, 'gitconfig'));
    symlinkSync('.env', join(folder, 'env-link'));
  });

  after(() => removeDir(root));

  it('reads a regular file inside the folder, with its mode', async () => {
    const read = await readFileToCopy(folder, '.env');
    assert.equal(contentOf(read), 'TOKEN=1\n');
    assert.ok('file' in read && read.file.mode === 0o600 && read.file.path === '.env');
    assert.equal(contentOf(await readFileToCopy(folder, 'config/./local.json')), '{}\n');
  });

  it('follows a link that stays inside the folder', async () => {
    assert.equal(contentOf(await readFileToCopy(folder, 'env-link')), 'TOKEN=1\n');
  });

  it('skips a link to a file outside the folder, and a path through a linked folder', async () => {
    skipped(await readFileToCopy(folder, 'notes.txt'), /'notes\.txt' leads outside/);
    skipped(await readFileToCopy(folder, 'linkdir/id_rsa'), /leads outside/);
  });

  it('skips anything under .git, however it is spelled or reached', async () => {
    skipped(await readFileToCopy(folder, '.git/config'), /nothing under \.git/);
    skipped(await readFileToCopy(folder, 'sub/.GIT/config'), /nothing under \.git/);
    skipped(await readFileToCopy(folder, 'gitconfig'), /leads into \.git/);
  });

  it('skips absolute paths and paths with ..', async () => {
    skipped(await readFileToCopy(folder, '../sibling.txt'), /paths inside the workspace/);
    skipped(await readFileToCopy(folder, 'config/../../sibling.txt'), /paths inside the workspace/);
    skipped(await readFileToCopy(folder, join(outside, 'id_rsa')), /paths inside the workspace/);
  });

  it('skips what is missing, a folder and a FIFO (without waiting on it)', async () => {
    skipped(await readFileToCopy(folder, 'missing.txt'), /not a file/);
    skipped(await readFileToCopy(folder, 'config'), /not a regular file/);
    execFileSync('mkfifo', [join(folder, 'pipe')]);
    skipped(await readFileToCopy(folder, 'pipe'), /not a regular file/);
  });

  it('skips a file larger than the bound', async () => {
    writeFileSync(join(folder, 'big.bin'), Buffer.alloc(MAX_COPY_BYTES + 1));
    skipped(await readFileToCopy(folder, 'big.bin'), /more than the 1048576/);
    writeFileSync(join(folder, 'exact.bin'), Buffer.alloc(MAX_COPY_BYTES));
    assert.equal(contentOf(await readFileToCopy(folder, 'exact.bin')).length, MAX_COPY_BYTES);
  });

  it('works when the folder itself is reached through a link', async () => {
    const linked = join(root, 'linked-checkout');
    symlinkSync(folder, linked);
    assert.equal(contentOf(await readFileToCopy(linked, '.env')), 'TOKEN=1\n');
    skipped(await readFileToCopy(linked, 'notes.txt'), /leads outside/);
  });

  it('skips a file whose folder is swapped for a link out between the check and the read', async () => {
    mkdirSync(join(folder, 'swap'));
    writeFileSync(join(folder, 'swap', 'id_rsa'), 'harmless\n');
    const original = promises.open;
    // Right before the open, the checked folder becomes a link to the user's files.
    promises.open = (async (...args: Parameters<typeof original>) => {
      promises.open = original;
      renameSync(join(folder, 'swap'), join(folder, 'swap-was'));
      symlinkSync(outside, join(folder, 'swap'));
      return original(...args);
    }) as typeof original;
    try {
      skipped(await readFileToCopy(folder, 'swap/id_rsa'), /changed while it was being copied/);
    } finally {
      promises.open = original;
    }
  });
});
