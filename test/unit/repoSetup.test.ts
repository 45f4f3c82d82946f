import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectInstall, fallbackDevCommand, parseLsTree, parseSetupFile, resolveSetup, SETUP_FILE_MAX_BYTES, validateCopyPath } from '../../src/core/setup/repoSetup';

describe('repository setup', () => {
  it('detects the install from lockfiles', () => {
    assert.equal(detectInstall(['README.md', 'package-lock.json', 'package.json']), 'npm ci');
    assert.equal(detectInstall(['pnpm-lock.yaml', 'package.json']), 'pnpm install --frozen-lockfile');
    assert.equal(detectInstall(['yarn.lock']), 'yarn install --frozen-lockfile');
    assert.equal(detectInstall(['requirements.txt']), 'pip install -r requirements.txt');
    assert.equal(detectInstall(['README.md', 'package.json']), undefined);
  });

  it('reads .gitiso.json and names the field to fix', () => {
    assert.deepEqual(parseSetupFile('{"dev":"vite --host","port":5173,"copy":[".env"]}'), { dev: 'vite --host', port: 5173, copy: ['.env'] });
    assert.deepEqual(parseSetupFile(undefined), {});
    assert.throws(() => parseSetupFile('{"dev":'), /\.gitiso\.json is not valid JSON/);
    assert.throws(() => parseSetupFile('[]'), /must hold an object/);
    assert.throws(() => parseSetupFile('{"install":["npm","ci"]}'), /"install" must be a shell command/);
    assert.throws(() => parseSetupFile('{"port":70000}'), /"port" must be a port number/);
    assert.throws(() => parseSetupFile('{"copy":".env"}'), /"copy" must be a list of paths/);
    assert.deepEqual(parseSetupFile('{"codingAgent":"codex"}'), { codingAgent: 'codex' });
    assert.throws(() => parseSetupFile('{"codingAgent":"../x"}'), /"codingAgent" must name a coding agent/);
  });

  it('refuses a setup file too big to be one, and commands with NUL characters', () => {
    const huge = JSON.stringify({ install: 'npm ci', padding: 'x'.repeat(SETUP_FILE_MAX_BYTES) });
    assert.throws(() => parseSetupFile(huge), /\.gitiso\.json is larger than 64 KB/);
    assert.throws(() => parseSetupFile('{"install":"npm ci\\u0000rm"}'), /"install" must be a shell command \(a string without NUL/);
  });

  it('keeps files to copy inside the workspace', () => {
    assert.equal(validateCopyPath('.env'), '.env');
    assert.equal(validateCopyPath('config/./local.json'), 'config/local.json');
    for (const bad of ['../secret', '/etc/passwd', 'a/../../b', 'a/../b', '', '.', 'C:/Users/me/.ssh/id_rsa', '..\\secret', 'a\0b']) {
      assert.throws(() => validateCopyPath(bad), /paths inside the workspace/, bad);
    }
    for (const git of ['.git/config', 'sub/.git/hooks/pre-commit', '.GIT/config', '.git', '.git./config']) {
      assert.throws(() => validateCopyPath(git), /nothing under \.git is copied/, git);
    }
    assert.equal(validateCopyPath('.github/workflows/x.yml'), '.github/workflows/x.yml');
    assert.equal(validateCopyPath('.gitignore'), '.gitignore');
    // The path comes from the repository: its message carries no terminal escapes.
    assert.throws(() => validateCopyPath('/\x1b[2J'), (error: Error) => !error.message.includes('\x1b') && error.message.includes('\\u001b'));
  });

  it('prefers the file to the settings, and keys the setup by install command and lockfiles', () => {
    const tree = new Map([['package-lock.json', 'aaa'], ['package.json', 'bbb']]);
    const detected = resolveSetup({}, {}, tree);
    assert.equal(detected.install, 'npm ci');
    assert.equal(detected.port, 3000);
    assert.match(detected.key, /^[0-9a-f]{16}$/);
    assert.equal(resolveSetup({ install: 'make deps' }, { install: 'npm ci', port: 8080 }, tree).install, 'make deps');
    assert.equal(resolveSetup({}, { port: 8080 }, tree).port, 8080);
    assert.equal(resolveSetup({ install: '' }, {}, tree).install, undefined, 'an empty install turns detection off');
    assert.equal(resolveSetup({ install: '' }, {}, tree).key, '');
    // Same lockfile, other files changed: same key (the dependencies are shared). Lockfile changed: another key.
    assert.equal(resolveSetup({}, {}, new Map([...tree, ['package.json', 'ccc']])).key, detected.key);
    assert.notEqual(resolveSetup({}, {}, new Map([...tree, ['package-lock.json', 'ddd']])).key, detected.key);
  });

  it('parses git ls-tree and falls back to npm scripts for the dev command', () => {
    const tree = parseLsTree('100644 blob 1111111111111111111111111111111111111111\tpackage.json\n040000 tree 2222222222222222222222222222222222222222\tsrc\n100644 blob 3333333333333333333333333333333333333333\tmy file.txt\n');
    assert.deepEqual([...tree], [['package.json', '1111111111111111111111111111111111111111'], ['my file.txt', '3333333333333333333333333333333333333333']]);
    assert.equal(fallbackDevCommand('{"scripts":{"dev":"vite","start":"node ."}}'), 'npm run dev');
    assert.equal(fallbackDevCommand('{"scripts":{"start":"node ."}}'), 'npm start');
    assert.equal(fallbackDevCommand('{"scripts":{}}'), undefined);
    assert.equal(fallbackDevCommand('not json'), undefined);
    assert.equal(fallbackDevCommand(undefined), undefined);
  });
});
