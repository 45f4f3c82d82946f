import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readFilesAtCommit } from '../../src/core/roundTrip/filesAtCommit';

const scratch = mkdtempSync(join(tmpdir(), 'gitiso-files-at-'));
const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

/** A bare mirror holding one commit with the given files (an agent's, so some are hostile). */
function mirrorWith(files: Record<string, string | Buffer>, attributes?: string): { poolPath: string; commit: string } {
  const work = join(scratch, `work-${Math.random().toString(36).slice(2)}`);
  mkdirSync(work);
  git(work, 'init', '-q');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  if (attributes) {
    writeFileSync(join(work, '.gitattributes'), attributes);
  }
  symlinkSync('/etc/passwd', join(work, 'link'));
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'files');
  const poolPath = `${work}.git`;
  git(scratch, 'clone', '-q', '--bare', work, poolPath);
  return { poolPath, commit: git(work, 'rev-parse', 'HEAD') };
}

describe('readFilesAtCommit', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('reads many files in one go, exactly as committed, whatever their names', async () => {
    const files = { 'a.txt': 'a\n', 'subst.txt': '$Format:%H$\n', 'dir/b.js': 'b();\n', '*.txt': 'a glob name\n', 'bin.dat': Buffer.from([0, 1, 2, 255]), 'sub/é ü.md': 'unicode\n' };
    const mirror = mirrorWith(files, '* export-subst\na.txt export-ignore\n');
    const read = await readFilesAtCommit({ ...mirror, paths: [...Object.keys(files), 'absent.txt', 'dir'], maxBytes: 1024, maxTotalBytes: 1024 * 1024 });
    for (const [path, content] of Object.entries(files)) {
      assert.deepEqual(read.get(path), Buffer.from(content), path);
    }
    assert.equal(read.get('absent.txt'), 'missing');
    assert.equal(read.get('dir'), 'missing');
  });

  it('does not read a file past maxBytes, nor past the total, nor a link', async () => {
    const mirror = mirrorWith({ 'big.txt': 'x'.repeat(2000), 'one.txt': '1'.repeat(600), 'two.txt': '2'.repeat(600) });
    const read = await readFilesAtCommit({ ...mirror, paths: ['big.txt', 'one.txt', 'two.txt', 'link'], maxBytes: 1000, maxTotalBytes: 1000 });
    assert.equal(read.get('big.txt'), 'too-large');
    assert.deepEqual(read.get('one.txt'), Buffer.from('1'.repeat(600)));
    assert.equal(read.has('two.txt'), false, 'past the total: left to be read alone');
    assert.equal(read.has('link'), false, 'a link is left to be read alone (its target is its content)');
  });

  it('refuses what is not a commit id', async () => {
    const mirror = mirrorWith({ 'a.txt': 'a\n' });
    await assert.rejects(readFilesAtCommit({ ...mirror, commit: 'HEAD', paths: ['a.txt'], maxBytes: 10, maxTotalBytes: 10 }), /not a commit id/);
  });
});
