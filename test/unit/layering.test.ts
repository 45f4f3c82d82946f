import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const srcDir = join(__dirname, '..', '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('layering', () => {
  it('keeps vscode out of src/core at run time', () => {
    const files = sourceFiles(join(srcDir, 'core'));
    assert.ok(files.length > 5, 'src/core was not found');
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /^import (?!type )[^;]*from 'vscode'|require\('vscode'\)/m, file);
    }
  });

  it('keeps vscode and Node out of src/webview, which runs in the browser', () => {
    const files = sourceFiles(join(srcDir, 'webview'));
    assert.ok(files.length > 2, 'src/webview was not found');
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /from '(vscode|node:[^']*)'|require\(/, file);
    }
  });

  it('keeps dockerode inside the engine adapter', () => {
    const importers = sourceFiles(srcDir).filter((file) => /from 'dockerode'|require\('dockerode'\)/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(importers.map((file) => file.slice(srcDir.length + 1)), ['core/docker/engine.ts']);
  });
});
