import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseExportLine } from '../../src/core/roundTrip/agentExport';
import { parseBundleHeader } from '../../src/core/roundTrip/bundleHeader';
import { parseChangedFiles } from '../../src/core/roundTrip/changedFiles';
import { parsePushPorcelain } from '../../src/core/roundTrip/pushOutcome';
import { loginAdvice, loginFailure } from '../../src/core/roundTrip/remoteLogin';
import { git, makeTempDir, removeDir } from '../support/testEnv';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('parseChangedFiles', () => {
  it('joins counts and statuses, with renames, binary files and paths with spaces, tabs and newlines', () => {
    const numstat = ['3\t1\ta.txt', '-\t-\timg.png', '0\t0\t', 'old name.txt', 'new\nname.txt', '0\t2\tgone\tfile', ''].join('\0');
    const nameStatus = ['M', 'a.txt', 'A', 'img.png', 'R100', 'old name.txt', 'new\nname.txt', 'D', 'gone\tfile', ''].join('\0');
    assert.deepEqual(parseChangedFiles(numstat, nameStatus), [
      { path: 'a.txt', status: 'modified', added: 3, removed: 1 },
      { path: 'img.png', status: 'added' },
      { path: 'new\nname.txt', oldPath: 'old name.txt', status: 'renamed', added: 0, removed: 0 },
      { path: 'gone\tfile', status: 'deleted', added: 0, removed: 2 },
    ]);
  });

  it('reads what git itself prints for a rename with edits and a binary file', () => {
    const dir = makeTempDir('changes-unit');
    try {
      git(dir, 'init', '-q');
      execFileSync('sh', ['-c', 'printf "1\\n2\\n3\\n4\\n5\\n6\\n" > "a b.txt"; printf "\\0\\1" > bin; echo x > link-target; git add -A'], { cwd: dir });
      git(dir, 'commit', '-qm', 'base');
      const base = git(dir, 'rev-parse', 'HEAD');
      execFileSync('sh', ['-c', 'git mv "a b.txt" "c\nd.txt" && printf "1\\n2\\n3\\n4\\n5\\n6\\n7\\n" > "c\nd.txt" && printf "\\0\\2" > bin && git add -A'], { cwd: dir });
      git(dir, 'commit', '-qm', 'change');
      const diff = (format: string): string => execFileSync('git', ['diff', '-M', '-z', format, base, 'HEAD'], { cwd: dir, encoding: 'utf8' });
      assert.deepEqual(parseChangedFiles(diff('--numstat'), diff('--name-status')), [
        { path: 'bin', status: 'modified' },
        { path: 'c\nd.txt', oldPath: 'a b.txt', status: 'renamed', added: 1, removed: 0 },
      ]);
    } finally {
      removeDir(dir);
    }
  });

  it('gives nothing for no changes', () => {
    assert.deepEqual(parseChangedFiles('', ''), []);
  });
});

describe('parsePushPorcelain', () => {
  const target = { branch: 'gitiso/a1', commit: A, id: 'a1' };
  const porcelain = (line: string): string => `To git://h/r.git\n${line}\nDone\n`;

  it('reads each flag into one sentence', () => {
    assert.equal(parsePushPorcelain(porcelain(`*\trefs/gitiso/a1/head:refs/heads/gitiso/a1\t[new branch]`), target)?.kind, 'created');
    assert.equal(parsePushPorcelain(porcelain(` \trefs/gitiso/a1/head:refs/heads/gitiso/a1\t${B.slice(0, 7)}..${A.slice(0, 7)}`), target)?.kind, 'updated');
    assert.equal(parsePushPorcelain(porcelain(`+\trefs/gitiso/a1/head:refs/heads/gitiso/a1\t${B.slice(0, 7)}...${A.slice(0, 7)} (forced update)`), target)?.kind, 'forced');
    const same = parsePushPorcelain(porcelain(`=\trefs/gitiso/a1/head:refs/heads/gitiso/a1\t[up to date]`), target);
    assert.deepEqual(same, { kind: 'up-to-date', branch: 'gitiso/a1', commit: A, sentence: `gitiso/a1 on the remote is up to date (${A.slice(0, 12)})` });
  });

  it('says what to do about a rejection', () => {
    const behind = parsePushPorcelain(porcelain('!\trefs/gitiso/a1/head:refs/heads/gitiso/a1\t[rejected] (fetch first)'), target);
    assert.equal(behind?.kind, 'rejected');
    assert.equal(behind?.sentence, "rejected: the remote's gitiso/a1 has commits the agent's lacks; sync the agent and merge, or push with --force-with-lease");
    const nonFastForward = parsePushPorcelain(porcelain('!\trefs/gitiso/a1/head:refs/heads/gitiso/a1\t[rejected] (non-fast-forward)'), target);
    assert.equal(nonFastForward?.sentence, behind?.sentence);
    assert.match(parsePushPorcelain(porcelain('!\trefs/gitiso/a1/head:refs/heads/gitiso/a1\t[rejected] (stale info)'), target)?.sentence ?? '', /moved since the host last fetched it; run 'gitiso sync a1'/);
    assert.equal(parsePushPorcelain(porcelain('!\trefs/gitiso/a1/head:refs/heads/gitiso/a1\t[remote rejected] (pre-receive hook declined)'), target)?.sentence, 'rejected by the remote: pre-receive hook declined');
  });

  it('gives undefined when the remote never answered', () => {
    assert.equal(parsePushPorcelain('', target), undefined);
    assert.equal(parsePushPorcelain('To git://h/r.git\nDone\n', target), undefined);
  });
});

describe('parseBundleHeader', () => {
  it('reads prerequisites and refs of v2 and v3 headers', () => {
    const v2 = Buffer.from(`# v2 git bundle\n-${B} base commit\n${A} refs/heads/gitiso/a1\n\nPACK...`);
    assert.deepEqual(parseBundleHeader(v2), { prerequisites: [B], refs: new Map([['refs/heads/gitiso/a1', A]]) });
    const v3 = Buffer.from(`# v3 git bundle\n@object-format=sha1\n-${B}\n${A} refs/x\n\nPACK`);
    assert.deepEqual(parseBundleHeader(v3).prerequisites, [B]);
  });

  it('refuses what is not a bundle header', () => {
    assert.throws(() => parseBundleHeader(Buffer.from('garbage\n\n')), /not a git bundle/);
    assert.throws(() => parseBundleHeader(Buffer.from('# v2 git bundle\nno blank line')), /not a git bundle/);
    assert.throws(() => parseBundleHeader(Buffer.from(`# v2 git bundle\nnot-an-id refs/x\n\n`)), /not a git bundle/);
    assert.throws(() => parseBundleHeader(Buffer.from(`# v2 git bundle\n${A} refs/x\n${B} refs/x\n\n`)), /names a ref twice/);
  });
});

describe('parseExportLine', () => {
  it('believes only object ids', () => {
    assert.deepEqual(parseExportLine(`warning: x\ngitiso-export ${A} ${B}\n`), { head: A, worktree: B });
    assert.equal(parseExportLine(`gitiso-export ${A} --upload-pack=evil\n`), undefined);
    assert.equal(parseExportLine('nothing\n'), undefined);
  });
});

describe('loginFailure', () => {
  it('tells a missing credential, a refused key and an unknown host key apart', () => {
    assert.equal(loginFailure("fatal: could not read Username for 'https://h': terminal prompts disabled"), 'password');
    assert.equal(loginFailure("remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'https://h/r.git/'"), 'password');
    assert.equal(loginFailure('git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.'), 'ssh-key');
    assert.equal(loginFailure('Host key verification failed.\nfatal: Could not read from remote repository.'), 'host-key');
    assert.equal(loginFailure('fatal: unable to access: Could not resolve host: h'), undefined);
    assert.match(loginAdvice('password'), /credential helper/);
    assert.match(loginAdvice('ssh-key'), /ssh-add/);
  });
});
