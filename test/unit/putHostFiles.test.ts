import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { putHostFiles } from '../../src/core/docker/archive';

/** An engine that reads the archive it is sent, as the real one extracts it. */
function receivingEngine(): { engine: Parameters<typeof putHostFiles>[0]; entries: { name: string; type: string; mode: number; content: string }[] } {
  const entries: { name: string; type: string; mode: number; content: string }[] = [];
  const engine = {
    putArchive: async (_id: string, archive: Buffer | Readable) => {
      const extract = tar.extract();
      (archive as Readable).pipe(extract as unknown as NodeJS.WritableStream);
      for await (const entry of extract) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) {
          chunks.push(chunk as Buffer);
        }
        entries.push({ name: entry.header.name, type: entry.header.type ?? '', mode: entry.header.mode ?? 0, content: Buffer.concat(chunks).toString() });
      }
    },
    getArchive: async () => undefined,
  };
  return { engine, entries };
}

describe('host files into a container in one archive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gitiso-test-put-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sends each file under the folder, with the folders the container user may move them out of', async () => {
    writeFileSync(join(dir, 'p.pack'), 'PACK');
    writeFileSync(join(dir, 'loose'), '');
    const { engine, entries } = receivingEngine();
    await putHostFiles(engine, 'c', { dir: '/tmp/objects', files: [{ hostPath: join(dir, 'p.pack'), name: 'pack/p.pack', size: 4 }, { hostPath: join(dir, 'loose'), name: 'ab/cd', size: 0 }] });
    assert.deepEqual(entries, [
      { name: 'tmp/objects/', type: 'directory', mode: 0o777, content: '' },
      { name: 'tmp/objects/ab/', type: 'directory', mode: 0o777, content: '' },
      { name: 'tmp/objects/pack/', type: 'directory', mode: 0o777, content: '' },
      { name: 'tmp/objects/pack/p.pack', type: 'file', mode: 0o444, content: 'PACK' },
      { name: 'tmp/objects/ab/cd', type: 'file', mode: 0o444, content: '' },
    ]);
  });

  it('refuses a file swapped for a link since it was chosen (it could be any of the host\'s files), and sends nothing of it', async () => {
    writeFileSync(join(dir, 'secret'), 'the user\'s key');
    symlinkSync(join(dir, 'secret'), join(dir, 'swapped.pack'));
    writeFileSync(join(dir, 'good.pack'), 'PACK');
    const { engine, entries } = receivingEngine();
    const files = [{ hostPath: join(dir, 'good.pack'), name: 'pack/good.pack', size: 4 }, { hostPath: join(dir, 'swapped.pack'), name: 'pack/x.pack', size: 14 }];
    await assert.rejects(putHostFiles(engine, 'c', { dir: '/tmp/objects', files }), /ELOOP/);
    assert.deepEqual(entries, [], 'nothing was sent');
  });

  it('refuses a file that grew since it was chosen, rather than send more than was chosen', async () => {
    writeFileSync(join(dir, 'grown.pack'), 'PACK and more');
    const { engine } = receivingEngine();
    await assert.rejects(putHostFiles(engine, 'c', { dir: '/tmp/objects', files: [{ hostPath: join(dir, 'grown.pack'), name: 'pack/x.pack', size: 4 }] }), /changed since it was chosen/);
  });

  it('refuses a name that leaves the folder', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    const { engine, entries } = receivingEngine();
    await assert.rejects(putHostFiles(engine, 'c', { dir: '/tmp/objects', files: [{ hostPath: join(dir, 'f'), name: '../../etc/passwd', size: 1 }] }), /not a plain relative name/);
    assert.deepEqual(entries, []);
  });
});
