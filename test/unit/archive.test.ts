import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { readFile } from '../../src/core/docker/archive';
import type { Engine } from '../../src/core/docker/engine';
import { InvalidInputError } from '../../src/core/errors';

/** An engine whose archive of any path is one file of `size` bytes, as the container says. */
function archiveOf(size: number) {
  let destroyed = false;
  const engine = {
    getArchive: async () => {
      const pack = tar.pack();
      pack.entry({ name: 'state.json', size }, Buffer.alloc(size, 'x'));
      pack.finalize();
      const stream = Readable.from(pack);
      stream.on('close', () => (destroyed = true));
      return stream;
    },
    putArchive: async () => undefined,
  } as unknown as Pick<Engine, 'getArchive' | 'putArchive'>;
  return { engine, destroyed: () => destroyed };
}

describe('reading a file from a container', () => {
  it('reads a small file', async () => {
    const { engine } = archiveOf(10);
    assert.equal((await readFile(engine, 'c', '/etc/gitiso/state.json'))?.toString(), 'x'.repeat(10));
  });

  it('refuses a file larger than the bound without reading it, and stops the stream', async () => {
    const { engine, destroyed } = archiveOf(3 * 1024 ** 2);
    await assert.rejects(readFile(engine, 'c', '/etc/gitiso/state.json'), (error: Error) => error instanceof InvalidInputError && /is 3145728 bytes, more than the 1048576 gitiso reads/.test(error.message));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(destroyed());
    await assert.rejects(readFile(archiveOf(100).engine, 'c', '/x', 99), InvalidInputError);
  });
});
