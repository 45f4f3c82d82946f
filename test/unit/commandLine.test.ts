import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitCommandLine } from '../../src/core/commandLine';
import { escapeWord } from '../../src/core/docker/execChannel';

describe('splitting a typed command line', () => {
  it('splits on white space and honours quotes and backslashes like a shell', () => {
    assert.deepEqual(splitCommandLine('log --oneline  -5'), ['log', '--oneline', '-5']);
    assert.deepEqual(splitCommandLine(`commit -m "fix the \\"login\\" bug" --author='A B <a@b>'`), ['commit', '-m', 'fix the "login" bug', '--author=A B <a@b>']);
    assert.deepEqual(splitCommandLine(`a\\ b '' ""`), ['a b', '', '']);
  });

  it('expands nothing: $, backticks, globs and semicolons stay words', () => {
    assert.deepEqual(splitCommandLine('log $HOME `id` *.ts ; rm -rf /'), ['log', '$HOME', '`id`', '*.ts', ';', 'rm', '-rf', '/']);
  });

  it('refuses an unclosed quote', () => {
    assert.throws(() => splitCommandLine('commit -m "oops'), /unclosed " quote/);
  });
});

describe('words on the exec channel', () => {
  it('stay plain when they can, and escape every other byte for printf %b', () => {
    assert.equal(escapeWord('status'), 'status');
    assert.equal(escapeWord('--format=%H'), '--format=\\0045H');
    assert.equal(escapeWord('a b'), 'a\\0040b');
    assert.equal(escapeWord('é'), '\\0303\\0251');
    assert.equal(escapeWord(''), '\\c');
    assert.doesNotMatch(escapeWord('$(id) `id` ; * ? [ ] \' " \n'), /[\s$`;*?[\]'"]/);
    // Every byte, alone and among plain ones: plain bytes as they are, all others as \0NNN.
    const byByte = (word: string): string =>
      [...Buffer.from(word, 'utf8')].map((byte) => (/[A-Za-z0-9._\-/=:,@+]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `\\0${byte.toString(8).padStart(3, '0')}`)).join('');
    for (let code = 1; code < 0x800; code++) {
      const char = String.fromCharCode(code);
      assert.equal(escapeWord(char), byByte(char), `U+${code.toString(16)}`);
      assert.equal(escapeWord(`a/b${char}c`), byByte(`a/b${char}c`), `U+${code.toString(16)} among plain ones`);
    }
  });
});
