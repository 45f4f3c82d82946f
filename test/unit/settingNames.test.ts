import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ts from 'typescript';
import { EXTENSION_ID } from '../../src/vscode/extensionId';
import { gitisoNamesIn, settingsNamedIn } from '../../src/vscode/settingsInMessage';

const repoRoot = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  publisher: string;
  contributes: { configuration: { properties: Record<string, unknown> } };
};
const settings = new Set(Object.keys(manifest.contributes.configuration.properties));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The text of every string and template piece in a file, with where it is. */
function literalsOf(path: string): { text: string; where: string }[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { text: string; where: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push({ text: node.text, where: `${path.slice(repoRoot.length + 1)}:${line}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * `gitiso.<name>` in a message (a literal with a space in it: ids, context keys
 * and labels are single words) is a setting the user is told to change.
 */
function mentionsInMessages(): { name: string; where: string }[] {
  return sourceFiles(join(repoRoot, 'src'))
    .flatMap(literalsOf)
    .filter((literal) => /\s/.test(literal.text))
    .flatMap((literal) => gitisoNamesIn(literal.text).map((name) => ({ name, where: literal.where })));
}

describe('settings named in messages', () => {
  it('every gitiso.<name> a message in src/ mentions is a setting package.json contributes', () => {
    const mentions = mentionsInMessages();
    // The scan sees the messages it is meant for: a broken scan must not pass by finding nothing.
    assert.ok(mentions.some((mention) => mention.name === 'gitiso.devServer.command'), JSON.stringify(mentions));
    assert.ok(mentions.length >= 5, JSON.stringify(mentions));
    const unknown = mentions.filter((mention) => !settings.has(mention.name));
    assert.deepEqual(unknown, [], `messages name settings that do not exist: ${unknown.map((u) => `${u.name} (${u.where})`).join(', ')}`);
  });

  it('finds a wrong name, and not files, sentence ends or code', () => {
    assert.deepEqual(gitisoNamesIn('set "dev" in .gitiso.json or the gitiso.devCommand setting.'), ['gitiso.devCommand']);
    assert.deepEqual(gitisoNamesIn('lower it (gitiso.limits.memory, --memory), or gitiso.image.'), ['gitiso.limits.memory', 'gitiso.image']);
    assert.deepEqual(gitisoNamesIn('see my-gitiso.conf and x.gitiso.y'), []);
    assert.equal(settings.has('gitiso.devCommand'), false);
  });

  it('offers only real settings for Open Settings', () => {
    const message = 'no dev command: set "dev" in .gitiso.json or the gitiso.devServer.command setting, or gitiso.nothing';
    assert.deepEqual(settingsNamedIn(message, settings), ['gitiso.devServer.command']);
    assert.deepEqual(settingsNamedIn('gitiso.dockerHost: bad address', settings), ['gitiso.dockerHost']);
    assert.deepEqual(settingsNamedIn('the agent failed', settings), []);
  });

  it('knows the extension by the id package.json gives it', () => {
    assert.equal(EXTENSION_ID, `${manifest.publisher}.${manifest.name}`);
  });
});
