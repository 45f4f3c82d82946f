import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listObjectFiles } from '../../src/core/git/poolObjectFiles';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('the object files a snapshot build gets from the pool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gitiso-test-objects-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes packs with their index and loose objects, and nothing else: no link, no pack still without its index, no other file', () => {
    const objects = join(dir, 'objects');
    mkdirSync(join(objects, 'pack'), { recursive: true });
    mkdirSync(join(objects, 'ab'));
    mkdirSync(join(objects, 'info'));
    writeFileSync(join(objects, 'pack', `pack-${A}.pack`), 'PACK');
    writeFileSync(join(objects, 'pack', `pack-${A}.idx`), 'IDX');
    writeFileSync(join(objects, 'pack', `pack-${B}.pack`), 'half-written: no index yet');
    writeFileSync(join(objects, 'ab', 'c'.repeat(38)), 'loose');
    writeFileSync(join(objects, 'ab', 'tmp_obj_XYZ'), 'a temporary file');
    writeFileSync(join(objects, 'info', 'alternates'), '/home/user/.ssh\n');
    writeFileSync(join(dir, 'secret'), 'the host user\'s secret');
    // The attacker's case: links that would send another of the host's files under a git name.
    symlinkSync(join(dir, 'secret'), join(objects, 'ab', 'd'.repeat(38)));
    symlinkSync(join(dir, 'secret'), join(objects, 'pack', `pack-${B}.idx`));
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'e'.repeat(38)), 'secret too');
    symlinkSync(join(dir, 'elsewhere'), join(objects, 'cd'));

    const files = listObjectFiles(objects);
    assert.deepEqual(
      files.map((f) => [f.name, f.size]),
      [
        [`pack/pack-${A}.pack`, 4],
        [`pack/pack-${A}.idx`, 3],
        [`ab/${'c'.repeat(38)}`, 5],
      ],
    );
    assert.equal(files[0]?.hostPath, join(objects, 'pack', `pack-${A}.pack`));
  });

  it('is empty for a folder that does not exist', () => {
    assert.deepEqual(listObjectFiles(join(dir, 'missing')), []);
  });
});
