import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const coreDir = join(__dirname, '..', '..', '..', 'src', 'core');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('layering', () => {
  it('keeps vscode out of src/core at run time', () => {
    const files = sourceFiles(coreDir);
    assert.ok(files.length > 5, 'src/core was not found');
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /^import (?!type )[^;]*from 'vscode'|require\('vscode'\)/m, file);
    }
  });
});
